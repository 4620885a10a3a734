"""Which precision a run trains in: what ``--precision`` asked for, resolved for the device at hand, with the
reason, and a warning where bf16 is emulated (a CPU without bf16 instructions runs it many times slower)."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

from zoo.errors import ZooWarning
from zoo.optimization.steps import Precision

NATIVE_BF16_FLAGS = {"avx512_bf16", "amx_bf16", "bf16"}  # x86 AVX-512 BF16 / AMX; "bf16" on Arm (Features)


def cpu_flags() -> set[str]:
    """The CPU's instruction-set flags as Linux lists them (empty elsewhere)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return set(value.split())
    return set()


def native_bf16(device: torch.device) -> bool:
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported(including_emulation=False)
    if device.type == "cpu":
        return bool(cpu_flags() & NATIVE_BF16_FLAGS)
    return False


def resolve(asked: str, device: torch.device, warn: bool = True) -> Precision:
    """The precision ``asked`` means on ``device``, with the reason where zoo chose (``auto``); warns (a
    :class:`~zoo.errors.ZooWarning`, when ``warn``) that bf16, or fp16 on a CPU, is emulated there."""
    native = native_bf16(device)
    if asked == "auto":
        if native:
            return Precision("bf16", f"auto: {device.type} has native bf16")
        return Precision("fp32", f"auto: {device.type} has no native bf16 (emulated bf16 is slower than fp32)")
    if asked == "bf16" and not native and warn:
        where = "this CPU has no bf16 instructions (AVX-512 BF16 or AMX)" if device.type == "cpu" else f"{device} has no native bf16"
        warnings.warn(f"--precision bf16 is emulated here ({where}) and runs several times slower than fp32; "
                      "--precision auto picks the faster one", ZooWarning, stacklevel=2)
    if asked == "fp16" and device.type == "cpu" and warn:
        warnings.warn("--precision fp16 on a CPU is emulated and runs many times slower than fp32 (measured 13x "
                      "here); it is for GPUs", ZooWarning, stacklevel=2)
    return Precision(asked, "")  # no reason to give: fp32 may be the default, not asked for
