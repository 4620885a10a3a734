"""What every tensor zoo loads or exports must be: finite numbers (a NaN or inf weight samples a black grid, at exit
0), of the dtype its file declares. Each tensor is read once, a block at a time: no copy of it is made, and what is
allocated besides is one block's mask."""

from __future__ import annotations

import torch

from zoo.errors import CheckpointError
from zoo.store import model_folder

BLOCK = 2**20  # elements per block: a 4 MiB slice of a float32 tensor, a 1 MiB mask


def _blocks(tensor: torch.Tensor):
    return tensor.detach().reshape(-1).split(BLOCK)  # reshape of a contiguous tensor is a view


def is_finite(tensor: torch.Tensor) -> bool:
    """Whether every value of ``tensor`` is a finite number (integer tensors always are)."""
    if not (tensor.is_floating_point() or tensor.is_complex()):
        return True
    return all(_finite_block(block) for block in _blocks(tensor))


def _finite_block(block: torch.Tensor) -> bool:
    # A NaN or inf makes the sum non-finite, so a finite sum settles it (a reduction: several times faster than an
    # element-wise mask); a sum that overflowed from finite values is settled element by element.
    return bool(torch.isfinite(block.sum())) or bool(torch.isfinite(block).all())


def largest_magnitude(tensor: torch.Tensor) -> float:
    """The largest absolute value in ``tensor`` (inf where it holds an inf, nan where a NaN), as a Python float."""
    largest = 0.0
    for block in _blocks(tensor):
        if block.numel():
            value = float(block.abs().max())
            if value != value:
                return value
            largest = max(largest, value)
    return largest


def first_non_finite(tensors: dict[str, torch.Tensor]) -> str | None:
    """The name of the first tensor holding a NaN or an inf, None when all are finite."""
    return next((name for name, tensor in tensors.items() if not is_finite(tensor)), None)


def first_wrong_dtype(tensors: dict[str, torch.Tensor], expected: dict[str, torch.Tensor],
                      floating: torch.dtype | None = None) -> tuple[str, torch.dtype, torch.dtype] | None:
    """(name, its dtype, the dtype it should have) of the first tensor in ``tensors`` whose dtype is not that of its
    namesake in ``expected`` (where a floating-point one, ``floating`` when given: a model folder exported in fp16
    holds fp16 weights for an fp32 model); None when all fit. Names ``expected`` lacks are left to the caller."""
    for name, tensor in tensors.items():
        if name not in expected:
            continue
        want = expected[name].dtype
        if floating is not None and want.is_floating_point:
            want = floating
        if tensor.dtype != want:
            return name, tensor.dtype, want
    return None


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def declared_dtype(meta: dict) -> str | None:
    """The dtype of a model folder's floating-point weights (its config.json's); None for a checkpoint, whose
    weights have the model's own dtypes."""
    dtype = meta.get("dtype") if meta.get("format") == model_folder.FORMAT else None
    return dtype if dtype in model_folder.DTYPES.values() else None


def check_read(path, tensors: dict[str, torch.Tensor], declared: str | None = None) -> None:
    """Refuse, in one CheckpointError line, a file whose tensors hold NaN or inf, or (``declared``: the dtype a model
    folder's config.json names) whose floating-point tensors are of another dtype."""
    wrong = first_non_finite(tensors)
    if wrong is not None:
        raise CheckpointError(f"{path}: tensor '{wrong}' holds NaN or infinite values (largest magnitude "
                              f"{largest_magnitude(tensors[wrong])}); zoo loads finite weights only")
    if declared is None:
        return
    odd = next((name for name, t in tensors.items() if t.is_floating_point() and dtype_name(t.dtype) != declared), None)
    if odd is not None:
        raise CheckpointError(f"{path}: tensor '{odd}' is {dtype_name(tensors[odd].dtype)}, but config.json says "
                              f"{declared}")


def check_fit(path, tensors: dict[str, torch.Tensor], expected: dict[str, torch.Tensor],
              floating: str | None = None) -> None:
    """Refuse, in one CheckpointError line, weights whose dtype is not the one the model holds there."""
    wrong = first_wrong_dtype(tensors, expected, None if floating is None else getattr(torch, floating))
    if wrong is not None:
        name, have, want = wrong
        raise CheckpointError(f"{path}: tensor '{name}' is {dtype_name(have)} where the model holds {dtype_name(want)}")


__all__ = ["check_read", "check_fit", "declared_dtype", "is_finite", "largest_magnitude", "first_non_finite",
           "first_wrong_dtype", "dtype_name"]
