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
