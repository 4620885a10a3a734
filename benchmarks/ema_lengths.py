"""Which EMA length suits a denoiser's budget? One training run keeps, beside the model's own EMA, power EMAs
(Karras et al. 2024: the decay after n updates is (1 - 1/(n+1))^(g+1), so each averages the same share of the run
whatever its length), and writes one run folder per EMA, ready for ``zoo eval``.

The run is the model's default (or ``--set``/``--steps`` given), seeded, so its own EMA is the default run's; the
script checks that its copy of that EMA matches the checkpoint's. zoo's warm-up min(decay, (1+n)/(10+n)) is
close to g = 8 until the decay reaches its cap (at 0.999, after about 9,000 updates).

    python benchmarks/ema_lengths.py flow-matching --out runs/fm-ema
    for g in 2 4 16 32; do zoo eval runs/fm-ema-g$g -n 2000; done
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from safetensors import safe_open
from safetensors.torch import save_file

from zoo.callbacks import Callback
from zoo.ema import make_ema, update_ema, warmed_up
from zoo.training.plan import plan_run
from zoo.training.trainer import Trainer


def power_decay(gamma: float):
    return lambda n: (1 - 1 / (n + 1)) ** (gamma + 1)


class ExtraEMAs(Callback):
    """EMAs of ``trainer.model.network``, one per decay rule, updated after every step."""

    def __init__(self, rules: dict):
        self.rules, self.shadows, self.updates = rules, {}, 0

    def on_train_start(self, trainer):
        self.shadows = {name: make_ema(trainer.model.network) for name in self.rules}

    def on_step_end(self, trainer, step, logs):
        for name, rule in self.rules.items():
            update_ema(self.shadows[name], trainer.model.network, rule(self.updates))
        self.updates += 1


def write_variant(run: Path, dest: Path, tensors: dict, metadata: dict, shadow) -> None:
    """``run``'s folder copied to ``dest`` with ``shadow`` as its network_ema."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(run, dest, ignore=shutil.ignore_patterns("samples", "eval*.json", "report.html"))
    replaced = dict(tensors)
    for name, tensor in shadow.state_dict().items():
        replaced[f"model.network_ema.{name}"] = tensor.contiguous()
    save_file(replaced, str(dest / "checkpoint.safetensors"), metadata=metadata)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a denoiser: ddpm, flow-matching, shortcut")
    parser.add_argument("--out", required=True, help="the run folder; each EMA's folder is OUT-gG beside it")
    parser.add_argument("--gammas", default="2,4,16,32")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a model option")
    args = parser.parse_args()

    rules = {f"g{g}": power_decay(float(g)) for g in args.gammas.split(",")}
    extra = ExtraEMAs(rules)
    options = {"seed": args.seed, "sample_every": 0, "checkpoint_every": 0}
    if args.steps:
        options["steps"] = args.steps
    model_options = dict(item.split("=", 1) for item in args.set)
    plan = plan_run(args.model, out=args.out, options=options, model_options=model_options)
    trainer = Trainer.from_plan(plan, callbacks=[extra])
    own_decay = trainer.model.config.ema_decay
    extra.rules["own"] = lambda n: warmed_up(own_decay, n)
    trainer.fit()

    run = Path(args.out)
    with safe_open(str(run / "checkpoint.safetensors"), "pt") as f:
        metadata, tensors = f.metadata(), {key: f.get_tensor(key) for key in f.keys()}
    own = extra.shadows.pop("own").state_dict()
    gap = max(float((own[k] - tensors[f"model.network_ema.{k}"]).abs().max()) for k in own)
    print(f"the run's own EMA against this script's copy of it: largest difference {gap:.2e}")
    for name, shadow in extra.shadows.items():
        write_variant(run, run.with_name(f"{run.name}-{name}"), tensors, metadata, shadow)
        print(f"{run.with_name(f'{run.name}-{name}')}: power EMA {name}")


if __name__ == "__main__":
    main()
