"""A run folder: the files one training run writes, and the only code that reads or writes ``config.json``,
``status.json``, ``eval.json`` and ``metrics.jsonl``. Standard library only, so ``zoo runs`` lists runs without
importing torch or numpy.

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
import logging
import os
from pathlib import Path
from typing import Iterable, Iterator

from zoo.errors import ZooError
from zoo.logged import TIME_SECONDS as TIME
from zoo.store.atomic import remove_stale_temp_files, write_text
from zoo.store.regular_files import UnreadableFile, is_regular, open_regular, read_regular, read_tail
from zoo.store.safetensors_header import read_header

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; one process per run folder is then the user's to keep
    fcntl = None

RECORD, STATUS, EVALUATION = "config.json", "status.json", "eval.json"  # the run record, its end, its evaluation
JSON_LIMIT = 16 * 2**20  # config.json, status.json, eval.json: far more than zoo ever writes into one
METRICS_TAIL = 2**20  # what ``zoo runs`` reads of metrics.jsonl: its end, where the last records are
LINE_LIMIT = 2**20  # a metrics line longer than this is no record of zoo's (a few hundred bytes each)


class RunFolder:
    """The files of one run. Only this class reads and writes ``config.json``, ``status.json``, ``eval.json`` and
    ``metrics.jsonl``; others ask it (:meth:`read_record`, :meth:`read_status`, :meth:`read_eval`, ...)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    config = property(lambda self: self.path / RECORD)
    metrics = property(lambda self: self.path / "metrics.jsonl")
    checkpoint = property(lambda self: self.path / "checkpoint.safetensors")
    best_checkpoint = property(lambda self: self.path / "best.safetensors")
    losses_plot = property(lambda self: self.path / "losses.png")
    eval_report = property(lambda self: self.path / EVALUATION)
    status_file = property(lambda self: self.path / STATUS)

    def write_status(self, status: str, step: int, error: str = "") -> None:
        """How the last training session ended: finished, failed (with the error) or interrupted."""
        write_text(self.status_file, json.dumps({"status": status, "step": step, "error": error}) + "\n")

    def summary(self) -> dict:
        """What ``zoo runs`` shows of this run, read from its files alone (no torch): the record, the status and
        the end of metrics.jsonl. A damaged, oversized or non-regular file among them is a ZooError naming it."""
        record = self.read_record()
        metrics, _ = self.read_metrics(tail=METRICS_TAIL)
        ended = self.read_status()
        losses = next((r for r in reversed(metrics) if any(k.startswith("loss") for k in r)), {})
        status, step, _ = self.state(record["train"]["steps"], metrics[-1]["step"] if metrics else 0)
        evaluation, provenance = {}, None
        try:  # a damaged evaluation leaves the eval column empty; the run is still listed
            report = self.read_eval()
            if report is not None:
                evaluation = {k: v for k, v in report["model"].items() if _is_number(v)}
                provenance = report.get("info", {}).get("provenance")
        except (ZooError, KeyError, TypeError, AttributeError):
            pass
        processes, batch_size = _count(record.get("world", {}), "size", 1), _count(record["train"], "batch_size")
        accumulate = _count(record["train"], "accumulate", 1)
        images = None if None in (processes, batch_size, accumulate) else batch_size * processes * accumulate
        return {"run": str(self.path), "model": record["model"], "data": record["data"].get("source"),
                "step": step, "step_saved": self.saved_step(), "steps": record["train"]["steps"], "processes": processes,
                "batch_size": batch_size, "accumulate": accumulate, "effective_batch": images,
                "time_s": next((r[TIME] for r in reversed(metrics) if _is_number(r.get(TIME))), None),
                "losses": {k: v for k, v in losses.items() if k.startswith("loss") and _is_number(v)},
                "eval": evaluation, "eval_provenance": provenance if isinstance(provenance, dict) else None,
                "status": status, "error": ended.get("error", ""), "created": record.get("created")}

    def state(self, steps: int, step: int) -> tuple[str, int, str]:
        """(state, step reached, error) of a run of ``steps`` logged up to ``step``: "running" while a process
        holds the folder and has not recorded its end; else status.json's word (finished, stopped, interrupted,
        failed) unless it tells of an earlier session (a step before the last logged one: resumed, then killed);
        else "finished" if every step was done, "interrupted" if not (a killed process writes nothing)."""
        try:
            ended = self.read_status()
        except ZooError as exc:
            return "unknown", step, str(exc)
        said = bool(ended.get("status")) and _is_number(ended.get("step"))
        if self.is_locked():
            if not (said and _newer(self.status_file, self.config)):
                return ("running" if step < steps else "finished"), step, ""
        elif said and ended["step"] < step:
            said = False
        if said:
            return ended["status"], int(ended["step"]), ended.get("error", "")
        return ("finished" if step >= steps else "interrupted"), step, ""

    def saved_step(self) -> int | None:
        """The step checkpoint.safetensors holds (from its header alone), None without a readable one."""
        if not is_regular(self.checkpoint):  # never open a named pipe put there: it would block
            return None
        try:
            return int(read_header(self.checkpoint)["__metadata__"]["step"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def read_status(self) -> dict:
        """status.json's content ({} where no session end was recorded); one zoo did not write is a ZooError."""
        if not self.status_file.exists():
            return {}
        ended = self._read_json(self.status_file)
        if not isinstance(ended, dict) or not all(isinstance(ended.get(k, ""), str) for k in ("status", "error")):
            raise ZooError(f"{self.status_file}: not a zoo status file")
        return ended

    def read_eval(self) -> dict | None:
        """eval.json's content (what ``zoo eval RUN`` or ``--eval-every`` measured), None where there is none; a
        damaged, oversized or non-regular one, or one that is no JSON object, is a ZooError naming it."""
        if not self.eval_report.exists():
            return None
        report = self._read_json(self.eval_report, "evaluation")
        if not isinstance(report, dict):
            raise ZooError(f"{self.eval_report}: not a zoo evaluation")
        return report

    def write_eval(self, report: dict) -> None:
        """Write eval.json (replacing the last one: a run keeps its latest evaluation)."""
        write_text(self.eval_report, json.dumps(report, indent=2) + "\n")

    @staticmethod
    def _read_json(path: Path, what: str = "JSON file"):
        """The JSON in ``path``, a regular file of at most JSON_LIMIT bytes; anything else is a ZooError."""
        try:
            return json.loads(read_regular(path, JSON_LIMIT).decode("utf-8"))
        except UnreadableFile:
            raise
        except OSError as exc:
            raise ZooError(f"{path}: {exc.strerror or exc}") from None
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise ZooError(f"{path}: not a readable {what} ({type(exc).__name__})") from None

    def is_locked(self) -> bool:
        """Whether a training process holds the folder right now."""
        lock = self.path / ".lock"
        if fcntl is None or not lock.exists():
            return False
        try:
            fh = open_regular(lock)  # never blocks, not even on a named pipe
        except (UnreadableFile, OSError):
            return False
        with fh:
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
        for path in (self.path / ".lock", self.metrics):  # the two files opened in place rather than replaced
            if os.path.lexists(path) and not is_regular(path):
                raise ZooError(f"{path}: not a regular file; move it away to train this run")
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
        if not self.config.exists():
            raise ZooError(f"{self.path} is not a run folder (no {RECORD})")
        record = self._read_json(self.config, "run record")
        if not isinstance(record, dict) or not {"model", "config", "train", "data"} <= set(record):
            raise ZooError(f"{self.config}: not a zoo run record")
        wrong = _wrong_field(record)
        if wrong:
            raise ZooError(f"{self.config}: not a zoo run record ('{wrong}' has the wrong type)")
        return record

    def write_record(self, record: dict) -> None:
        write_text(self.config, json.dumps(record, indent=2) + "\n")

    def append_metrics(self, entry: dict) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.metrics, "a") as fh:
            fh.write(json.dumps(entry) + "\n")

    def read_metrics(self, tail: int | None = None) -> tuple[list[dict], int]:
        """Every complete record (with ``tail``: those in the file's last ``tail`` bytes), and how many lines were
        not one (a crash or a full disk mid-append tears the last line). metrics.jsonl must be a regular file;
        memory stays bounded whatever its size (a line longer than LINE_LIMIT counts as torn)."""
        if not self.metrics.exists():
            return [], 0
        try:
            if tail is None:
                with open_regular(self.metrics) as fh:
                    return _records(_lines(fh))
            data, cut = read_tail(self.metrics, tail)
        except UnreadableFile:
            raise
        except OSError as exc:
            raise ZooError(f"{self.metrics}: {exc.strerror or exc}") from None
        lines = data.split(b"\n")
        return _records(lines[1:] if cut else lines)  # after a cut, the first piece is the end of a line

    def keep_metrics_until(self, step: int) -> list[dict]:
        """Drop records past ``step`` (a resume trains those steps again) and torn lines; return the rest."""
        records, torn = self.read_metrics()
        kept = [r for r in records if r["step"] <= step]
        if torn:
            logging.getLogger(__name__).info(f"{self.metrics}: dropped {torn} torn line{'s' if torn > 1 else ''} "
                                             "(a write cut short)")
        if len(kept) < len(records) or torn:
            write_text(self.metrics, "".join(json.dumps(r) + "\n" for r in kept))
        return kept


def _newer(path: Path, than: Path) -> bool:
    with contextlib.suppress(OSError):
        return os.stat(path).st_mtime_ns >= os.stat(than).st_mtime_ns
    return False


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _count(table, key: str, default: int | None = None) -> int | None:
    """``table[key]`` if it is a whole number of at least 1 (``default`` where it is not there), else None."""
    value = table.get(key, default) if isinstance(table, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else None


def _wrong_field(record: dict) -> str | None:
    """The first field of a run record whose type no zoo ever wrote (None when all fit)."""
    if not isinstance(record["model"], str):
        return "model"
    wrong = next((key for key in ("config", "train", "data") if not isinstance(record[key], dict)), None)
    steps = record["train"].get("steps") if wrong is None else None
    return wrong or (None if isinstance(steps, int) and not isinstance(steps, bool) else "train.steps")


def _lines(fh) -> Iterator[bytes | None]:
    """The lines of ``fh`` read a block at a time, None for one longer than LINE_LIMIT: a file of one endless
    line (a sparse file of zeros) costs a block or two of memory, not its size."""
    pending, overlong = b"", False
    while block := fh.read(LINE_LIMIT):
        *ended, rest = block.split(b"\n")
        for part in ended:
            line, pending = pending + part, b""
            yield None if overlong or len(line) > LINE_LIMIT else line
            overlong = False
        if not overlong:
            pending += rest
            if len(pending) > LINE_LIMIT:
                pending, overlong = b"", True
    if overlong or pending:
        yield None if overlong else pending


def _records(lines: Iterable[bytes | None]) -> tuple[list[dict], int]:
    records, torn = [], 0
    for line in lines:
        try:
            record = None if line is None else json.loads(line.decode("utf-8", errors="replace"))
        except (ValueError, RecursionError):
            record = None
        if isinstance(record, dict) and isinstance(record.get("step"), int):
            records.append(record)
        elif line is None or line.strip():
            torn += 1
    return records, torn
