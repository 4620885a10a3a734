"""SIGINT and SIGTERM while a run trains. The first asks for an orderly stop: the step in progress finishes, a
checkpoint of it is written, and the run ends "interrupted" (exit 130 from ``zoo train``), so a preempted machine
loses nothing; a second one, or one outside the step loop (start-up, the final evaluation), stops at once, as
Ctrl-C always did."""

from __future__ import annotations

import contextlib
import signal
import threading

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """Where a first signal is kept until the step loop can act on it."""

    def __init__(self):
        self.received: str | None = None  # the name of the first signal, while it waits for the step's end
        self.armed = False  # inside the step loop, where a first signal can wait

    @contextlib.contextmanager
    def listening(self):
        """Take SIGINT and SIGTERM in the block (in the main thread; elsewhere they cannot be taken)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = {number: signal.signal(number, self._heard) for number in SIGNALS}
        try:
            yield self
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)

    @contextlib.contextmanager
    def armed_for_steps(self):
        self.armed = True
        try:
            yield
        finally:
            self.armed = False

    def _heard(self, number, frame) -> None:
        name = signal.Signals(number).name
        if self.received is not None or not self.armed:
            raise KeyboardInterrupt(f"stopped by {name}")
        self.received = name
