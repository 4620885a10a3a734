"""Training zoo's small evaluation networks on one CPU thread.

The weights then come out the same whatever the machine's thread count (torch's CPU kernels split their sums
by thread, so two thread counts give two sets of weights, two sha256 in provenance, and two evaluations that
cannot be compared), and a training is not slowed many times over when other processes hold the cores (torch's
threads wait on each other: on a 2-core machine shared with another training, the feature network took 16
minutes on 2 threads, 1 minute on one).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run the block with torch on one intra-op thread, then restore the count it had."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
