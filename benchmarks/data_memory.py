"""Data larger than memory: peak RSS and images/s of ``zoo train`` streaming a memory-mapped uint8 file, against
holding the same images in memory, against the usual plain-PyTorch way of reading a large array (a Dataset
over ``np.load(mmap_mode="r")`` and a DataLoader), all in one run.

Builds a synthetic dataset of --gigabytes of 64x64 colour images as one .npy (written in chunks, never whole in
memory), then trains a small DCGAN on it for --steps steps each way, each in a fresh process; the variants take
turns for --repeats rounds and medians are printed.

    python benchmarks/data_memory.py                       # 4.5 GB, in a temporary folder
    python benchmarks/data_memory.py --gigabytes 8 --dir /scratch --keep
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SHAPE = (3, 64, 64)
BATCH = 64


def build(path: Path, gigabytes: float) -> int:
    count = int(gigabytes * 1e9 // np.prod(SHAPE))
    if path.exists() and np.load(path, mmap_mode="r").shape == (count, *SHAPE):
        return count
    images = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(count, *SHAPE))
    rng = np.random.default_rng(0)
    ramp = np.linspace(0, 255, SHAPE[-1], dtype=np.float32)
    for start in range(0, count, 10_000):
        n = min(10_000, count - start)
        shade = rng.integers(0, 64, (n, SHAPE[0], 1, 1), dtype=np.uint8)  # some structure, cheaply
        images[start : start + n] = (ramp[None, None, None, :] * 0.5).astype(np.uint8) + shade
    images.flush()
    del images
    return count


def plain_loader(path: Path, steps: int, warmup: int) -> float:
    """The usual plain-PyTorch way: a map-style Dataset over a memory-mapped array, a shuffling DataLoader."""
    import torch
    import torch.nn.functional as F

    import zoo

    class Images(torch.utils.data.Dataset):
        def __init__(self):
            self.array = np.load(path, mmap_mode="r")

        def __len__(self):
            return len(self.array)

        def __getitem__(self, i):
            return torch.from_numpy(np.asarray(self.array[i], dtype=np.float32) / 127.5 - 1)

    torch.manual_seed(0)
    model = zoo.create_model("dcgan", data_shape=SHAPE, width=32, latent_dim=64, ema_decay=0.0)
    g, d = model.generator, model.discriminator
    opt_g, opt_d = (torch.optim.Adam(m.parameters(), 2e-4, betas=(0.5, 0.999)) for m in (g, d))
    loader = iter(torch.utils.data.DataLoader(Images(), batch_size=BATCH, shuffle=True, drop_last=True))
    for step in range(warmup + steps):
        if step == warmup:
            started = time.perf_counter()
        real = next(loader)
        fake = g(torch.randn(BATCH, 64)).detach()
        loss_d = F.softplus(-d(real)).mean() + F.softplus(d(fake)).mean()
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = F.softplus(-d(g(torch.randn(BATCH, 64)))).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
    return steps * BATCH / (time.perf_counter() - started)


def zoo_train(path: Path, access: str, steps: int, warmup: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        subprocess.run([sys.executable, "-m", "zoo", "train", "dcgan", "--data", str(path), "--data-access", access,
                        "--steps", str(warmup + steps), "--batch-size", str(BATCH), "--set", "width=32",
                        "--sample-every", "0", "--checkpoint-every", "0", "--out", str(out), "--quiet"],
                       check=True, capture_output=True)
        records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines() if '"time_s"' in line]
        first = next(r for r in records if r["step"] >= warmup)
        return (records[-1]["step"] - first["step"]) * BATCH / (records[-1]["time_s"] - first["time_s"])


VARIANTS = {"zoo stream": lambda a: zoo_train(a.path, "stream", a.steps, a.warmup),
            "zoo in memory": lambda a: zoo_train(a.path, "memory", a.steps, a.warmup),
            "plain DataLoader": lambda a: plain_loader(a.path, a.steps, a.warmup)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gigabytes", type=float, default=4.5)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="where to build the dataset [default: a temporary folder]")
    parser.add_argument("--keep", action="store_true", help="keep the dataset for the next run")
    parser.add_argument("--variant", help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:  # a child: one variant, then its own figures (RUSAGE_CHILDREN covers zoo train's process)
        rate = VARIANTS[args.variant](args)
        rss = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
        print(json.dumps({"rate": rate, "rss_mb": rss / 1024}))
        return

    folder = args.dir or Path(tempfile.mkdtemp(prefix="zoo-data-memory-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "synthetic-64x64.npy"
    started = time.perf_counter()
    count = build(path, args.gigabytes)
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    print(f"{count} images of {SHAPE}, {path.stat().st_size / 1e9:.2f} GB on disk (built in "
          f"{time.perf_counter() - started:.0f} s); machine memory {memory:.1f} GB; DCGAN width 32, batch {BATCH}, "
          f"{args.steps} timed steps after {args.warmup}; median of {args.repeats} interleaved runs")
    runs = {name: [] for name in VARIANTS}
    try:
        for _ in range(args.repeats):
            for name in VARIANTS:
                done = subprocess.run([sys.executable, __file__, "--variant", name, "--path", str(path),
                                       "--steps", str(args.steps), "--warmup", str(args.warmup)],
                                      capture_output=True, text=True)
                if done.returncode != 0:
                    sys.exit(f"{name} failed:\n{done.stderr[-2000:]}")
                runs[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
    finally:
        if not args.keep:
            path.unlink(missing_ok=True)
            if args.dir is None:
                shutil.rmtree(folder, ignore_errors=True)
    base = statistics.median(r["rate"] for r in runs["plain DataLoader"])
    for name, results in runs.items():
        rate = statistics.median(r["rate"] for r in results)
        rss = statistics.median(r["rss_mb"] for r in results)
        spread = ", ".join(f"{r['rate']:.0f}" for r in results)
        print(f"{name:<17} {rate:7.0f} images/s  {rate / base:5.2f}x plain  peak RSS {rss:6.0f} MB  (runs: {spread})")


if __name__ == "__main__":
    main()
