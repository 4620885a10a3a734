"""Where a run trains: the device a name means here, the model laid out for it, and the machine's memory."""

from __future__ import annotations

import os

import torch

from zoo.errors import ZooError


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """The device ``name`` means here; with several processes on a machine, CUDA rank ``local_rank`` gets its own GPU."""
    if name == "auto":
        if torch.cuda.is_available():
            name = "cuda"
        elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        else:
            return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ZooError("--device cuda: no CUDA device is available here (try --device auto)")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ZooError("--device mps: no Apple MPS device is available here (try --device auto)")
    if name not in ("cpu", "cuda", "mps"):
        raise ZooError(f"unknown device '{name}'; choose auto, cpu, cuda or mps")
    if name == "cuda":
        device = torch.device("cuda", local_rank % torch.cuda.device_count())
        torch.cuda.set_device(device)
        return device
    return torch.device(name)


def seed_everything(seed: int) -> None:
    """Seed torch's generators (the CPU's and every CUDA device's) with ``seed``: a new run's initial weights and
    whatever a model draws from torch's global generator. Torch only, despite the name: Python's ``random`` and
    numpy's global generator are left as they are; zoo's training draws from neither (the data order comes from
    torch generators seeded by (seed, epoch), each step's noise from (seed, rank, step)), so a plugin that uses
    them seeds them itself."""
    torch.manual_seed(seed)


def memory_bytes() -> int:
    """The machine's physical memory (0 where it cannot be told)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def prepare_model(model, config, device: torch.device, distributed: bool):
    """``model`` laid out for training as ``config`` asks (synchronised batch norm, channels_last, compiled), and
    whether its images are channels_last."""
    if config.batchnorm == "sync" and distributed:
        if device.type != "cuda":
            raise ZooError("--batchnorm sync needs CUDA devices (torch's SyncBatchNorm has no CPU kernels); "
                           "leave it at per-rank")
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    wanted = model.memory_format if config.memory_format == "auto" else config.memory_format
    channels_last = wanted == "channels_last" and device.type in ("cpu", "cuda")
    model = model.to(memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    if config.compile:
        for network in model.networks.values():
            network.compile()  # in place: parameter names, and so checkpoints, stay as they are
    return model, channels_last
