"""Exponential moving average of a network's weights, kept as a frozen copy for sampling."""

from __future__ import annotations

import copy

import torch
from torch import nn


def make_ema(network: nn.Module) -> nn.Module:
    shadow = copy.deepcopy(network)
    shadow.requires_grad_(False)
    return shadow


@torch.no_grad()
def update_ema(shadow: nn.Module, network: nn.Module, decay: float) -> None:
    for s, p in zip(shadow.parameters(), network.parameters()):
        s.lerp_(p.detach(), 1.0 - decay)
    for s, b in zip(shadow.buffers(), network.buffers()):
        s.copy_(b)


def warmed_up(decay: float, updates: int) -> float:
    """The decay to use after ``updates`` updates: small at first, so the average forgets the random start."""
    return min(decay, (1 + updates) / (10 + updates))
