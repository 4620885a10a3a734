"""One rank of a test's multi-process run (started by tests/test_distributed.py with RANK, WORLD_SIZE, ...).

``python distributed_worker.py MODE OUT STEPS BATCH``: trains the two-optimiser ``mlp-pair`` model below on
random images and saves this rank's weights to ``OUT/rank-R.safetensors`` and the step it ended at to
``OUT/step-R.txt``. MODE ``stop``: a callback (on rank 0, as callbacks run) calls ``trainer.stop`` after step 3;
``sigterm``: rank 1 alone receives a SIGTERM during step 2. FAIL_AT=S makes rank 1 raise at step S.

``python distributed_worker.py zoo ARGS...`` (under torchrun): runs ``zoo ARGS`` with a way to die by SIGKILL,
as ``kill -9`` would: KILL_RANK=R and KILL_AT_STEP=S kill rank R once S steps are done, as the next begins;
KILL_IN_CHECKPOINT=N kills the writer in its Nth checkpoint write, after the temporary
file is written and synced, before ``os.replace`` puts it in place.
"""

import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).parent))
torch.set_num_threads(1)

import zoo  # noqa: E402
from zoo.config import option  # noqa: E402
from zoo.datasets import ImageData  # noqa: E402
from zoo.registry.plugin_host import plugin_manager  # noqa: E402
from zoo.training.options import TrainConfig  # noqa: E402
from zoo.training.trainer import Trainer  # noqa: E402
from zoo.training import distributed  # noqa: E402


@dataclass
class PairConfig:
    hidden: int = option(16, "hidden units")


class MLPPair(zoo.Architecture):
    """Two networks, two optimisers, no BatchNorm; its 'noise' is a function of each image, so a 2-rank step and a
    1-process step on the concatenated batch see the same numbers."""

    def __init__(self, config, data_shape=(1, 8, 8), num_classes=None):
        super().__init__(config, data_shape, num_classes)
        pixels = int(np.prod(data_shape))
        self.critic = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(pixels, config.hidden), torch.nn.Tanh(),
                                          torch.nn.Linear(config.hidden, 1))
        self.maker = torch.nn.Sequential(torch.nn.Linear(pixels, pixels), torch.nn.Tanh())

    def configure_optimizers(self):
        return {"critic": torch.optim.Adam(self.critic.parameters(), 1e-2),
                "maker": torch.optim.Adam(self.maker.parameters(), 1e-2)}

    def training_step(self, batch, step):
        if os.environ.get("FAIL_AT") == str(step) and os.environ["RANK"] == "1":
            raise RuntimeError("rank 1 broke on purpose")
        if os.environ.get("SIGTERM_AT") == str(step) and os.environ["RANK"] == "1":
            os.kill(os.getpid(), signal.SIGTERM)
        real = batch.images
        fake = self.maker(real.flatten(1).flip(1)).view_as(real)
        loss_d = torch.nn.functional.softplus(self.critic(fake.detach())).mean() + \
            torch.nn.functional.softplus(-self.critic(real)).mean()
        self.optimizers["critic"].zero_grad()
        loss_d.backward()
        self.optimizers["critic"].step()
        self.critic.requires_grad_(False)
        loss_g = torch.nn.functional.softplus(-self.critic(fake)).mean()
        self.optimizers["maker"].zero_grad()
        loss_g.backward()
        self.optimizers["maker"].step()
        self.critic.requires_grad_(True)
        return {"loss_d": loss_d, "loss_g": loss_g}

    def sample_latent(self, n, generator=None):
        return torch.rand(n, *self.data_shape, generator=generator) * 2 - 1

    def generate(self, z, labels=None):
        return self.maker(z.flatten(1)).view_as(z)


class PairPlugin:
    @zoo.hookimpl
    def register_architectures(self, register):
        register("mlp-pair", MLPPair, config=PairConfig, summary="test model", data_shapes=[(1, 8, 8)])


def main(mode, out, steps, batch):
    plugin_manager().register(PairPlugin(), name="pair")
    Path(out).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    data = ImageData(rng.integers(0, 256, (64, 1, 8, 8), dtype=np.uint8), None, "random")
    torch.manual_seed(0)
    model = zoo.create_model("mlp-pair", data_shape=(1, 8, 8))
    config = TrainConfig(steps=int(steps), batch_size=int(batch), device="cpu", sample_every=0, checkpoint_every=0)
    trainer = Trainer(model, data, config, Path(out) / "run", callbacks=[StopAfter(3)] if mode == "stop" else [])
    if trainer.world.is_writer:
        save_file({k: v.clone() for k, v in model.state_dict().items()}, str(Path(out) / "initial.safetensors"))
    if mode == "sigterm":
        os.environ["SIGTERM_AT"] = "2"
    try:
        trainer.fit()
    except KeyboardInterrupt:
        pass
    finally:
        distributed.leave()
        (Path(out) / f"step-{trainer.world.rank}.txt").write_text(str(trainer.step))
    save_file(trainer.model.state_dict(), str(Path(out) / f"rank-{trainer.world.rank}.safetensors"))


class StopAfter(zoo.Callback):
    def __init__(self, step):
        self.step = step

    def on_step_end(self, trainer, step, logs):
        if step == self.step:
            trainer.stop("enough")


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def zoo_with_kills(args):
    from zoo.cli.main import main as zoo_main

    if os.environ.get("KILL_RANK") == os.environ["RANK"]:
        step_once = Trainer._optimisation_step

        def optimisation_step(self):
            if self.step == int(os.environ["KILL_AT_STEP"]):
                die()
            return step_once(self)

        Trainer._optimisation_step = optimisation_step
    if os.environ.get("KILL_IN_CHECKPOINT"):
        replace, writes = os.replace, []

        def replace_or_die(src, dst, *args, **kwargs):
            if Path(dst).name == "checkpoint.safetensors":
                writes.append(dst)
                if len(writes) == int(os.environ["KILL_IN_CHECKPOINT"]):
                    assert Path(src).stat().st_size > 0  # the new checkpoint is all there, beside the old one
                    die()
            return replace(src, dst, *args, **kwargs)

        os.replace = replace_or_die
    zoo_main(args)


if __name__ == "__main__":
    if sys.argv[1] == "zoo":
        zoo_with_kills(sys.argv[2:])
    else:
        main(*sys.argv[1:])
