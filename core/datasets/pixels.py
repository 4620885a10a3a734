"""The pixel convention, stated once: data and files hold uint8 pixels (N, C, H, W); models see float32 in
[-1, 1] (0 -> -1, 255 -> 1). Training, evaluation and what zoo shows all convert through here."""

from __future__ import annotations

import numpy as np
import torch


def to_float(images: np.ndarray | torch.Tensor, device: str | torch.device = "cpu") -> torch.Tensor:
    """uint8 (N, C, H, W), an array or a tensor -> float32 tensor in [-1, 1] on ``device``."""
    if not torch.is_tensor(images):
        images = torch.from_numpy(np.ascontiguousarray(images))
    if images.dtype != torch.uint8:
        raise TypeError(f"images must be uint8, got {images.dtype}")
    return images.to(device, non_blocking=True).to(torch.float32).div_(127.5).sub_(1.0)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) floats in [-1, 1] -> uint8 array of the same shape."""
    scaled = (images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5
    return scaled.round().to(torch.uint8).numpy()


__all__ = ["to_float", "to_uint8"]
