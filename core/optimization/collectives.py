"""What several processes exchange, in one place below the trainer and the architecture base: gradients averaged
before an optimiser step, tensors copied from rank 0, and the two collectives plugins call for state that is not
a parameter (``Architecture.all_reduce_mean``, ``Architecture.broadcast_from_rank_zero``, no-ops in one process:
no process group, nothing to exchange). Torch is imported on first use (the trainer's room imports this
module where the command line only asks which rank it is)."""

from __future__ import annotations


def world_size() -> int:
    """How many processes share the run: 1 without a process group."""
    import torch.distributed as dist

    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def _flat_groups(tensors):
    """The tensors grouped by (device, dtype), each group with a flat copy to send in one collective."""
    import torch

    groups: dict[tuple, list] = {}
    for tensor in tensors:
        groups.setdefault((tensor.device, tensor.dtype), []).append(tensor)
    for members in groups.values():
        yield members, torch.cat([t.reshape(-1) for t in members])


def _write_back(members, flat) -> None:
    offset = 0
    for tensor in members:
        tensor.copy_(flat[offset:offset + tensor.numel()].view_as(tensor))
        offset += tensor.numel()


def average_gradients(optimizer) -> None:
    """Replace the gradients ``optimizer`` is about to apply by their mean over all ranks. Parameters without a
    gradient are skipped: the same step code leaves the same ones without on every rank."""
    import torch.distributed as dist

    grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
    size = dist.get_world_size()
    for members, flat in _flat_groups(grads):
        dist.all_reduce(flat)
        _write_back(members, flat.div_(size))


def broadcast_state(tensors) -> None:
    """Overwrite ``tensors`` (parameters or buffers) with rank 0's values."""
    import torch
    import torch.distributed as dist

    if world_size() == 1:
        return
    with torch.no_grad():
        for members, flat in _flat_groups(list(tensors)):
            dist.broadcast(flat, src=0)
            _write_back(members, flat)


def all_reduce_mean(tensor: "torch.Tensor") -> "torch.Tensor":
    """``tensor`` (floating point) overwritten in place by its mean over all ranks, and returned. Every rank must
    call it at the same point with a tensor of the same shape and dtype."""
    if not tensor.is_floating_point():
        raise TypeError(f"all_reduce_mean averages floating-point tensors, got {tensor.dtype}: convert it first")
    import torch
    import torch.distributed as dist

    size = world_size()
    if size > 1:
        with torch.no_grad():
            dist.all_reduce(tensor)
            tensor.div_(size)
    return tensor
