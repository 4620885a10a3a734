"""Data-parallel training on PyTorch's torch.distributed: a launcher (``torchrun``, or anything that sets RANK,
WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT) starts one process per device; the Trainer does the rest.
Plugins write no distributed code: their ``training_step`` runs unchanged on every rank.

How the ranks stay one model (see the plugin guide's "Several processes" for the why):
- weights start identical (same seed, then a broadcast from rank 0) and stay identical: every optimiser's
  gradients are averaged across ranks just before its ``step()``, by a hook on the optimiser. Not DDP: zoo's
  architectures call their networks several times per step and freeze the critic for the generator step, which
  DDP tolerates only with ``find_unused_parameters``; DDP reduces gradients no optimiser applies (the critic's
  during the generator step) and measured 1.19x slower on a plain DCGAN (benchmarks/distributed_sync.py). The
  hook reduces exactly what the optimiser is about to apply, once;
- buffers (BatchNorm running statistics, any a plugin registers) are broadcast from rank 0 after each step, as
  DDP does before each forward, so what rank 0 saves is what every rank holds; parameters without a gradient
  that a step changes in place are not: a plugin averages such state itself (``Architecture.all_reduce_mean``,
  ``broadcast_from_rank_zero``; the collectives live in :mod:`zoo.optimization.collectives`);
- each rank draws its own noise: its random numbers at step ``s`` come from (seed, rank, s), so a checkpoint
  written by rank 0 alone resumes every rank exactly;
- logged figures are averaged across ranks, and a non-finite one stops every rank at the same step.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass

from zoo.errors import ZooError
from zoo.optimization.collectives import average_gradients, broadcast_state  # noqa: F401  (the trainer calls them here)

BACKENDS = {"cuda": "nccl", "cpu": "gloo"}


@dataclass(frozen=True)
class World:
    """Which process this is (``rank``) of how many (``size``); ``local_rank`` picks the device on a machine."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    @property
    def is_writer(self) -> bool:
        """Rank 0 alone writes the run folder and runs the callbacks."""
        return is_rank_zero(self.rank)


def launched_rank() -> int:
    """This process's rank as a launcher set it (``RANK`` where ``WORLD_SIZE`` is above 1), 0 when none did or the
    variables are not whole numbers (:func:`launched_world` says what is wrong with them). Never raises: error
    messages use it."""
    try:
        return int(os.environ.get("RANK", "0")) if int(os.environ.get("WORLD_SIZE", "1")) > 1 else 0
    except ValueError:
        return 0


def is_rank_zero(rank: int | None = None) -> bool:
    """Whether ``rank`` (by default this process's, :func:`launched_rank`) is rank 0: the one process of a
    torchrun job that writes the run folder and says things on the terminal for all. The one answer to "am I rank
    0?" in zoo; a single process is rank 0."""
    return (launched_rank() if rank is None else rank) == 0


def launched_world() -> World:
    """The world a launcher set up through the standard environment variables (one process when none)."""
    try:
        size = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", str(rank)))
    except ValueError:
        raise ZooError("RANK, WORLD_SIZE and LOCAL_RANK must be whole numbers (as torchrun sets them)") from None
    if size < 1 or not 0 <= rank < size:
        raise ZooError(f"RANK {rank} is not within WORLD_SIZE {size}")
    return World(rank, size, local)


def join(device_type: str, timeout_s: float = 1800) -> World:
    """Join the launcher's process group (once per process) and return this process's world."""
    world = launched_world()
    if not world.distributed:
        return world
    import torch.distributed as dist

    if not dist.is_available():
        raise ZooError("this torch build has no torch.distributed; train in one process")
    if not dist.is_initialized():
        for name in ("MASTER_ADDR", "MASTER_PORT"):
            if name not in os.environ:
                raise ZooError(f"WORLD_SIZE is {world.size} but {name} is not set; start zoo with torchrun")
        dist.init_process_group(BACKENDS.get(device_type, "gloo"), rank=world.rank, world_size=world.size,
                                timeout=datetime.timedelta(seconds=timeout_s))
    elif dist.get_world_size() != world.size:
        raise ZooError(f"the process group has {dist.get_world_size()} ranks, WORLD_SIZE says {world.size}")
    return world


def leave() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def step_seed(seed: int, rank: int, step: int) -> int:
    """The seed of ``rank``'s random numbers for ``step``: distinct per (seed, rank, step), below 2**63."""
    return (seed * 1_000_003 + rank) * 1_000_000_007 + step & 0x7FFF_FFFF_FFFF_FFFF


def mean_figures(figures: dict[str, float], device) -> dict[str, float]:
    """The step's figures averaged over ranks (every rank logs the same keys)."""
    import torch
    import torch.distributed as dist

    names = sorted(figures)
    values = torch.tensor([figures[n] for n in names], dtype=torch.float64, device=device)
    dist.all_reduce(values)
    return dict(zip(names, (values / dist.get_world_size()).tolist()))


def any_rank(flags: list[bool], device) -> list[bool]:
    """Each flag set on any rank: every rank then acts on it at the same step."""
    import torch
    import torch.distributed as dist

    values = torch.tensor([float(flag) for flag in flags], device=device)
    dist.all_reduce(values, op=dist.ReduceOp.MAX)
    return [bool(v) for v in values.tolist()]


def barrier() -> None:
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
