"""Training speed: zoo against a plain PyTorch loop of the same networks, in one run, images/s and peak memory.

Every variant trains zoo's DCGAN (width 64, batch 64, Adam, non-saturating loss) on the bundled MNIST subset,
each in a fresh process of its own (so each has its own peak RSS and allocator), and the variants take turns
(interleaved), so drifts in the machine's speed hit all alike; the median of the repeats is reported.

- plain: the loop one writes by hand (float32 images in memory, contiguous tensors), fp32 and bf16 autocast,
  and bf16 with channels_last, the fastest hand-written variant we know on a CPU;
- zoo: the Trainer from Python (metrics log only) and ``zoo train dcgan`` as a user types it (every default
  callback, progress lines to a pipe), timed from its own metrics.jsonl between the warm-up and the last step;
- with --compile: the Trainer with torch.compile (compile time reported apart from the steady state);
- with --processes: ``zoo train`` in one process with one thread against ``torchrun`` with two processes of one
  thread each (the same 64 images per step in all);
- with --fp16: fp16 autocast with a gradient scaler, by hand and through zoo (``Architecture.optimize``);
- with --device cuda: all of it on the GPU, peak GPU memory beside each (benchmarks/gpu_check.sh).

    python benchmarks/train_speed.py                      # 3 interleaved repeats of each variant
    python benchmarks/train_speed.py --repeats 5 --compile --processes --fp16
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WIDTH, LATENT, BATCH = 64, 64, 64
SAME_AS_PLAIN = {"width": WIDTH, "latent_dim": LATENT, "ema_decay": 0.0, "penalty_weight": 0.0}
"""zoo's dcgan as the plain loop is: its defaults' width 32, R1 penalty and EMA generator would time another model."""


def plain_loop(args, precision: str, channels_last: bool = False) -> float:
    """A hand-written DCGAN loop; returns images/s over the timed steps."""
    import torch
    import torch.nn.functional as F

    import zoo
    from zoo import datasets

    data = datasets.split(datasets.load("mnist"), "train")
    images = torch.from_numpy(data.images).float().div(127.5).sub(1).to(args.device)
    torch.manual_seed(0)
    model = zoo.create_model("dcgan", width=WIDTH, latent_dim=LATENT, ema_decay=0.0).to(args.device)
    g, d = model.generator, model.discriminator
    if channels_last:
        g, d = g.to(memory_format=torch.channels_last), d.to(memory_format=torch.channels_last)
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    autocast = torch.autocast(args.device, dtype=dtype or torch.bfloat16, enabled=dtype is not None)
    scaler = torch.amp.GradScaler(args.device, enabled=precision == "fp16")
    n, order = len(images), torch.randperm(len(images), device=args.device)
    started = None
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            started = time.perf_counter()
        start = (step * BATCH) % (n - BATCH)
        real = images[order[start : start + BATCH]]
        if channels_last:
            real = real.contiguous(memory_format=torch.channels_last)
        with autocast:
            z = torch.randn(BATCH, LATENT, device=args.device)
            with torch.no_grad():
                fake = g(z)
            loss_d = F.softplus(-d(real)).mean() + F.softplus(d(fake)).mean()
            opt_d.zero_grad(set_to_none=True)
            scaler.scale(loss_d).backward()
            scaler.step(opt_d)
            d.requires_grad_(False)
            loss_g = F.softplus(-d(g(torch.randn_like(z)))).mean()
            opt_g.zero_grad(set_to_none=True)
            scaler.scale(loss_g).backward()
            scaler.step(opt_g)
            scaler.update()
            d.requires_grad_(True)
        loss_d.item(), loss_g.item()  # the figures a person would print, as zoo logs them
    return args.steps * BATCH / (time.perf_counter() - started)


def zoo_trainer(args, precision: str, compile: bool = False) -> dict:
    import torch

    import zoo
    from zoo import datasets
    from zoo.training.default_callbacks import MetricsLog
    from zoo.training.trainer import TrainConfig, Trainer

    data = datasets.split(datasets.load("mnist"), "train")
    torch.manual_seed(0)
    model = zoo.create_model("dcgan", **SAME_AS_PLAIN)
    timings = {"begin": time.perf_counter()}

    class Clock(MetricsLog):
        def on_step_end(self, trainer, step, logs):
            super().on_step_end(trainer, step, logs)
            if step == 1:
                timings["first step"] = time.perf_counter()
            if step == args.warmup:
                timings["start"] = time.perf_counter()

    with tempfile.TemporaryDirectory() as out:
        config = TrainConfig(steps=args.warmup + args.steps, batch_size=BATCH, device=args.device, precision=precision,
                             sample_every=0, checkpoint_every=0, compile=compile)
        Trainer(model, data, config, out, callbacks=[Clock()]).fit()
    rate = args.steps * BATCH / (time.perf_counter() - timings["start"])
    return {"rate": rate, "first_step_s": timings["first step"] - timings["begin"]}


def metrics_rate(run: Path, warmup: int) -> float:
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if '"time_s"' in line]
    first = next(r for r in records if r["step"] >= warmup)
    last = records[-1]
    return (last["step"] - first["step"]) * BATCH / (last["time_s"] - first["time_s"])


def zoo_command(args, precision: str, processes: int = 0) -> dict:
    """``zoo train dcgan`` as a user runs it; ``processes`` > 0: one thread per process, launched by torchrun."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        common = ["train", "dcgan", "--steps", str(args.warmup + args.steps), "--out", str(out), "--device", args.device,
                  "--precision", precision, "--log-every", "10",
                  *(f"--set={key}={value}" for key, value in SAME_AS_PLAIN.items())]
        env = dict(os.environ, ZOO_PROGRESS_SECONDS="10")
        if processes:
            env["OMP_NUM_THREADS"] = "1"
            command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}",
                       "-m", "zoo", *common, "--batch-size", str(BATCH // processes)]
        else:
            command = [sys.executable, "-m", "zoo", *common]
        subprocess.run(command, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        return {"rate": metrics_rate(out, args.warmup),
                "rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def variants(args) -> dict:
    found = {
        "plain fp32": lambda: plain_loop(args, "fp32"),
        "plain bf16": lambda: plain_loop(args, "bf16"),
        "plain bf16 channels_last": lambda: plain_loop(args, "bf16", channels_last=True),
        "zoo Trainer fp32": lambda: zoo_trainer(args, "fp32"),
        "zoo Trainer bf16": lambda: zoo_trainer(args, "bf16"),
        "zoo train fp32": lambda: zoo_command(args, "fp32"),
        "zoo train bf16": lambda: zoo_command(args, "bf16"),
    }
    if args.compile:
        found["zoo Trainer fp32 compiled"] = lambda: zoo_trainer(args, "fp32", compile=True)
        found["zoo Trainer bf16 compiled"] = lambda: zoo_trainer(args, "bf16", compile=True)
    if args.fp16:
        found["plain fp16"] = lambda: plain_loop(args, "fp16")
        found["zoo Trainer fp16"] = lambda: zoo_trainer(args, "fp16")
    if args.processes:
        found["zoo train fp32, 1 thread"] = lambda: _one_thread(args)
        found["torchrun 2 x 1 thread fp32"] = lambda: zoo_command(args, "fp32", processes=2)
    return found


def _one_thread(args) -> dict:
    os.environ["OMP_NUM_THREADS"] = "1"
    return zoo_command(args, "fp32")


def run_variant(args) -> None:
    """In a child process: run one variant and print its figures as JSON."""
    result = variants(args)[args.variant]()
    result = result if isinstance(result, dict) else {"rate": result}
    result.setdefault("rss_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    if args.device == "cuda":
        import torch

        result["gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
    print(json.dumps(result))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each, interleaved; the median is reported")
    parser.add_argument("--compile", action="store_true", help="also torch.compile (minutes of compiling)")
    parser.add_argument("--processes", action="store_true", help="also 1 process vs 2 under torchrun")
    parser.add_argument("--fp16", action="store_true", help="also fp16 with a gradient scaler")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        return run_variant(args)

    import torch

    names = list(variants(args))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs; DCGAN width {WIDTH}, "
          f"batch {BATCH}; {args.steps} timed steps after {args.warmup} warm-up; median of {args.repeats} interleaved runs")
    runs: dict[str, list[dict]] = {name: [] for name in names}
    flags = [*(["--compile"] if args.compile else []), *(["--processes"] if args.processes else []),
             *(["--fp16"] if args.fp16 else []), "--device", args.device]
    for _ in range(args.repeats):
        for name in names:
            done = subprocess.run([sys.executable, __file__, "--variant", name, "--steps", str(args.steps),
                                   "--warmup", str(args.warmup), *flags], capture_output=True, text=True)
            if done.returncode != 0:
                sys.exit(f"{name} failed:\n{done.stderr[-2000:]}")
            runs[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
    median = {name: statistics.median(r["rate"] for r in results) for name, results in runs.items()}
    base = median["plain fp32"]
    print(f"{'variant':<28} {'images/s':>9} {'x plain fp32':>13} {'peak RSS':>9}   runs")
    for name, results in runs.items():
        rss = statistics.median(r["rss_mb"] for r in results)
        extra = ""
        if "first_step_s" in results[0]:
            extra = f"  first step after {statistics.median(r['first_step_s'] for r in results):.1f} s"
        spread = ", ".join(f"{r['rate']:.0f}" for r in results)
        if "gpu_mb" in results[0]:
            extra += f"  GPU peak {statistics.median(r['gpu_mb'] for r in results):.0f} MB"
        print(f"{name:<28} {median[name]:9.0f} {median[name] / base:12.2f}x {rss:7.0f} MB   ({spread}){extra}")
    ratio = lambda a, b: median[a] / median[b]  # noqa: E731
    print(f"zoo Trainer fp32 / plain fp32 = {ratio('zoo Trainer fp32', 'plain fp32'):.2f}; "
          f"zoo Trainer bf16 / plain bf16 channels_last = {ratio('zoo Trainer bf16', 'plain bf16 channels_last'):.2f}")
    print(f"zoo bf16 / zoo fp32 = {ratio('zoo Trainer bf16', 'zoo Trainer fp32'):.2f} (Trainer), "
          f"{ratio('zoo train bf16', 'zoo train fp32'):.2f} (zoo train); "
          f"zoo train / zoo Trainer = {ratio('zoo train fp32', 'zoo Trainer fp32'):.2f} (fp32), "
          f"{ratio('zoo train bf16', 'zoo Trainer bf16'):.2f} (bf16)")
    if args.fp16:
        print(f"zoo Trainer fp16 / plain fp16 = {ratio('zoo Trainer fp16', 'plain fp16'):.2f}")
    if args.processes:
        print(f"torchrun 2 x 1 thread / 1 process x 1 thread = "
              f"{ratio('torchrun 2 x 1 thread fp32', 'zoo train fp32, 1 thread'):.2f}; "
              f"/ 1 process x {torch.get_num_threads()} threads = {ratio('torchrun 2 x 1 thread fp32', 'zoo train fp32'):.2f}")


if __name__ == "__main__":
    main()
