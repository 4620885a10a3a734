"""How ranks should agree on gradients for zoo's GANs: DDP against averaging gradients just before each optimiser
step (what zoo's Trainer does), on the plain DCGAN loop, in one run of N processes.

DDP overlaps its all-reduce with the backward pass but reduces every backward it sees, the generator step's
pass through the discriminator included, and it needs the standard GAN workarounds; averaging before the step
reduces exactly what each optimiser applies, once, after the backward. Also tries the WGAN-GP penalty (a
gradient of a gradient) under DDP and reports what happens.

    python benchmarks/distributed_sync.py               # starts itself under torchrun with 2 processes
    python benchmarks/distributed_sync.py --nproc 4 --steps 200
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

WIDTH, LATENT, BATCH = 64, 64, 32  # 32 per rank: the 64 of the single-process benchmark, over two ranks


def loop(sync: str, steps: int, warmup: int, penalty: bool = False) -> float:
    import torch
    import torch.distributed as dist
    import torch.nn.functional as F

    import zoo
    from zoo import datasets
    from zoo.training import distributed

    data = datasets.split(datasets.load("mnist"), "train")
    images = torch.from_numpy(data.images).float().div(127.5).sub(1)
    torch.manual_seed(0)
    model = zoo.create_model("wgan-gp" if penalty else "dcgan", width=WIDTH, ema_decay=0.0)
    g, d = model.generator, model.discriminator
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    if sync == "ddp":
        g, d = torch.nn.parallel.DistributedDataParallel(g), torch.nn.parallel.DistributedDataParallel(d)
    else:
        for opt in (opt_g, opt_d):
            opt.register_step_pre_hook(lambda o, a, k: distributed.average_gradients(o))
    rank = dist.get_rank()
    generator = torch.Generator().manual_seed(rank)
    for step in range(warmup + steps):
        if step == warmup:
            dist.barrier()
            started = time.perf_counter()
        real = images[torch.randint(0, len(images), (BATCH,), generator=generator)]
        z = torch.randn(BATCH, model.config.latent_dim)
        fake = g(z)  # as PyTorch's DCGAN example: one generator pass, detached for the discriminator step
        loss_d = F.softplus(-d(real)).mean() + F.softplus(d(fake.detach())).mean()
        if penalty:
            mixed = (real + torch.rand(BATCH, 1, 1, 1) * (fake.detach() - real)).requires_grad_(True)
            grad, = torch.autograd.grad(d(mixed).sum(), mixed, create_graph=True)
            loss_d = loss_d + 10 * (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        loss_g = F.softplus(-d(fake)).mean()  # DDP reduces D's gradients here too, unused as they are
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        loss_d.item()
    dist.barrier()
    return steps * BATCH * dist.get_world_size() / (time.perf_counter() - started)


def rank_main(args) -> None:
    import torch.distributed as dist

    dist.init_process_group("gloo")
    results = {"ddp": [], "average before step": []}
    for _ in range(args.repeats):  # interleaved
        for sync in results:
            results[sync].append(loop(sync, args.steps, args.warmup))
    penalty = {}
    for sync in results:
        try:
            penalty[sync] = f"{loop(sync, 20, 5, penalty=True):.0f} images/s"
        except Exception as exc:  # noqa: BLE001 -- the point is to report it
            penalty[sync] = f"fails: {type(exc).__name__}: {' '.join(str(exc).split())[:150]}"
    if dist.get_rank() == 0:
        print(f"{dist.get_world_size()} processes x {os.environ.get('OMP_NUM_THREADS', '?')} thread, DCGAN width "
              f"{WIDTH}, {BATCH} images per rank, {args.steps} timed steps, median of {args.repeats} interleaved runs")
        for sync, rates in results.items():
            print(f"{sync:<20} {statistics.median(rates):6.0f} images/s  (runs: {', '.join(f'{r:.0f}' for r in rates)})")
        ratio = statistics.median(results["average before step"]) / statistics.median(results["ddp"])
        print(f"average before step / DDP = {ratio:.2f}")
        for sync, outcome in penalty.items():
            print(f"with the gradient penalty, {sync}: {outcome}")
    dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--warmup", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if "RANK" in os.environ:
        return rank_main(args)
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={args.nproc}",
               __file__, "--steps", str(args.steps), "--warmup", str(args.warmup), "--repeats", str(args.repeats)]
    sys.exit(subprocess.run(command).returncode)


if __name__ == "__main__":
    main()
