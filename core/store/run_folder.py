"""A run folder: the files one training run writes, and the only code that writes ``config.json`` and
``metrics.jsonl``. Standard library only, so ``zoo runs`` lists runs without importing torch or numpy.

    RUN/
      config.json                the run record: model, config, train options, data, callbacks, versions
      status.json                how the last session ended: finished, failed (with the error) or interrupted
      metrics.jsonl              one JSON object per line
      samples/step-NNNNNN.png    sample grids
      losses.png, report.html    the loss plot and the run's page
      eval.json                  the final evaluation (with --eval-every)
      checkpoint.safetensors     weights, optimisers, RNG and data position; best.safetensors: the lowest FID
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path

from zoo.errors import ZooError
from zoo.store.atomic import remove_stale_temp_files, write_text

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; one process per run folder is then the user's to keep
    fcntl = None


class RunFolder:
    """The files of one run. Only this class writes ``config.json`` and ``metrics.jsonl``."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    config = property(lambda self: self.path / "config.json")
    metrics = property(lambda self: self.path / "metrics.jsonl")
    checkpoint = property(lambda self: self.path / "checkpoint.safetensors")
    best_checkpoint = property(lambda self: self.path / "best.safetensors")
    losses_plot = property(lambda self: self.path / "losses.png")
    eval_report = property(lambda self: self.path / "eval.json")
    status_file = property(lambda self: self.path / "status.json")

    def write_status(self, status: str, step: int, error: str = "") -> None:
        """How the last training session ended: finished, failed (with the error) or interrupted."""
        write_text(self.status_file, json.dumps({"status": status, "step": step, "error": error}) + "\n")

    def summary(self) -> dict:
        """What ``zoo runs`` shows of this run, read from its files alone (no torch)."""
        record = self.read_record()
        metrics, _ = self.read_metrics()
        losses = next((r for r in reversed(metrics) if any(k.startswith("loss") for k in r)), {})
        try:
            ended = json.loads(self.status_file.read_text())
        except (OSError, ValueError):
            ended = {}
        step = metrics[-1]["step"] if metrics else 0
        status = ended.get("status") or ("finished" if step >= record["train"]["steps"] else "interrupted")
        if self.is_locked():
            status = "running"
        evaluation, provenance = {}, None
        if self.eval_report.exists():
            try:
                report = json.loads(self.eval_report.read_text())
                evaluation = {k: v for k, v in report["model"].items() if isinstance(v, (int, float))}
                provenance = report.get("info", {}).get("provenance")
            except (ValueError, KeyError, TypeError, AttributeError):
                pass
        return {"run": str(self.path), "model": record["model"], "data": record["data"].get("source"),
                "step": step, "steps": record["train"]["steps"],
                "time_s": next((r["time_s"] for r in reversed(metrics) if "time_s" in r), None),
                "losses": {k: v for k, v in losses.items() if k.startswith("loss")}, "eval": evaluation,
                "eval_provenance": provenance,
                "status": status, "error": ended.get("error", ""), "created": record.get("created")}

    def is_locked(self) -> bool:
        """Whether a training process holds the folder right now."""
        lock = self.path / ".lock"
        if fcntl is None or not lock.exists():
            return False
        with open(lock) as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(fh, fcntl.LOCK_UN)
        return False

    def is_empty_shell(self) -> bool:
        """Whether the folder holds nothing but what a process killed at its start left (a lock, temp files)."""
        return self.path.is_dir() and all(p.name == ".lock" or p.name.endswith(".tmp") for p in self.path.iterdir())

    def sample_grid(self, step: int) -> Path:
        return self.path / "samples" / f"step-{step:06d}.png"

    @contextlib.contextmanager
    def lock(self):
        """Hold the folder for one training process: a second one gets a one-line error, not interleaved files.
        Also clears what processes killed mid-write left behind."""
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / ".lock", "a+") as fh:
            if fcntl is not None:
                try:
                    fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    fh.seek(0)
                    owner = fh.read().strip() or "another process"
                    raise ZooError(f"{self.path} is being trained by {owner}; wait for it or stop it first") from None
            fh.seek(0)
            fh.truncate()
            fh.write(f"process {os.getpid()}")
            fh.flush()
            remove_stale_temp_files(self.path)
            yield self

    def read_record(self) -> dict:
        if not self.config.is_file():
            raise ZooError(f"{self.path} is not a run folder (no config.json)")
        try:
            record = json.loads(self.config.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ZooError(f"{self.config}: not a readable run record ({type(exc).__name__})") from None
        if not isinstance(record, dict) or not {"model", "config", "train", "data"} <= set(record):
            raise ZooError(f"{self.config}: not a zoo run record")
        return record

    def write_record(self, record: dict) -> None:
        write_text(self.config, json.dumps(record, indent=2) + "\n")

    def append_metrics(self, entry: dict) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.metrics, "a") as fh:
            fh.write(json.dumps(entry) + "\n")

    def read_metrics(self) -> tuple[list[dict], int]:
        """Every complete record, and how many lines were not one (a crash or a full disk mid-append tears
        the last line)."""
        if not self.metrics.exists():
            return [], 0
        records, torn = [], 0
        for line in self.metrics.read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                record = None
            if isinstance(record, dict) and isinstance(record.get("step"), int):
                records.append(record)
            elif line.strip():
                torn += 1
        return records, torn

    def keep_metrics_until(self, step: int) -> list[dict]:
        """Drop records past ``step`` (a resume trains those steps again) and torn lines; return the rest."""
        records, torn = self.read_metrics()
        kept = [r for r in records if r["step"] <= step]
        if torn:
            print(f"zoo: {self.metrics}: dropped {torn} torn line{'s' if torn > 1 else ''} (a write cut short)",
                  file=sys.stderr)
        if len(kept) < len(records) or torn:
            write_text(self.metrics, "".join(json.dumps(r) + "\n" for r in kept))
        return kept
