"""``zoo runs``: hostile run folders (named pipes, devices, huge sparse files, wrong types) cost one row each, never
a hang, a flood of memory or the listing; and listing imports neither torch nor numpy.

Run folders are written by hand here (no training), and whatever could hang or eat memory runs in a subprocess
under a timeout and an address-space limit, so a regression fails instead of stalling CI."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from zoo.store.run_folder import RunFolder

SCRIPT = """
import json, sys
try:
    import resource
    limit = int(sys.argv[1]) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))  # a regression reading 2 GB fails fast, not the machine
except (ImportError, ValueError, OSError):
    resource = None
from zoo.cli.main import main
code = 0
try:
    main(["runs", *sys.argv[2:]])
except SystemExit as exc:
    code = exc.code or 0
try:  # the peak resident memory of this program (ru_maxrss would count the parent's at fork time)
    rss = next(int(l.split()[1]) / 1024 for l in open("/proc/self/status") if l.startswith("VmHWM:"))
except (OSError, StopIteration):
    rss = None
print(json.dumps({"code": code, "torch": "torch" in sys.modules, "numpy": "numpy" in sys.modules,
                  "max_rss_mib": rss}), file=sys.stderr)
"""


def zoo_runs(*args, timeout=60, memory_mib=1024):
    """``zoo runs ARGS`` in a fresh interpreter: (exit code, stdout, what it imported and its peak memory)."""
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(memory_mib), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout)
    *messages, facts = done.stderr.strip().splitlines() or ["{}"]
    try:
        facts = json.loads(facts)
    except ValueError:
        pytest.fail(f"zoo runs died: {done.stderr[-2000:]}")
    return facts.pop("code"), done.stdout, facts, "\n".join(messages)


def write_run(folder: Path, steps: int = 4, status: str = "finished", **record_extras) -> Path:
    """A run folder as a 4-step training leaves it (losses and times every step); ``record_extras`` join the record
    (``train={...}`` updates its train table)."""
    folder.mkdir(parents=True)
    record = {"model": "toy-gan", "config": {}, "train": {"steps": steps, **record_extras.pop("train", {})},
              "data": {"source": "tiny.npz"}, "created": "2024-01-01T00:00:00", **record_extras}
    (folder / "config.json").write_text(json.dumps(record))
    (folder / "metrics.jsonl").write_text("".join(json.dumps({"step": s, "loss_d": 0.5, "loss_g": 1.5, "time_s": 6.0 * s})
                                                  + "\n" for s in range(1, steps + 1)))
    (folder / "status.json").write_text(json.dumps({"status": status, "step": steps, "error": ""}))
    return folder


def rows_of(out: str) -> dict:
    return {Path(r["run"]).name: r for r in json.loads(out)}


@pytest.mark.parametrize("name, expected", [
    ("status.json", "unreadable"), ("metrics.jsonl", "unreadable"), ("config.json", "unreadable"),
    ("eval.json", "finished"), (".lock", "finished"),  # optional files: the run is listed without them
])
def test_a_named_pipe_in_a_run_folder_is_never_opened_for_a_blocking_read(tmp_path, name, expected):
    root = tmp_path / "runs"
    write_run(root / "healthy")
    piped = write_run(root / "piped")
    (piped / name).unlink(missing_ok=True)
    os.mkfifo(piped / name)
    code, out, _, _ = zoo_runs(root, "--json", timeout=30)  # before the fix: blocked forever opening the pipe
    rows = rows_of(out)
    assert code == 0 and rows["healthy"]["status"] == "finished" and rows["piped"]["status"] == expected
    if expected == "unreadable":
        assert rows["piped"]["error"] == f"{name}: not a regular file (a named pipe)"


DAMAGE = {
    "status.json is a list": lambda run: (run / "status.json").write_text("[]"),
    "status.json names no status": lambda run: (run / "status.json").write_text('{"status": 3}'),
    "train is a list": lambda run: _edit_record(run, lambda r: r.update(train=[])),
    "steps is a string": lambda run: _edit_record(run, lambda r: r["train"].update(steps="x")),
    "data is a list": lambda run: _edit_record(run, lambda r: r.update(data=[])),
    "model is a number": lambda run: _edit_record(run, lambda r: r.update(model=5)),
    "config.json is nested too deep": lambda run: (run / "config.json").write_text("[" * 100_000),
    "metrics.jsonl is a folder": lambda run: ((run / "metrics.jsonl").unlink(), (run / "metrics.jsonl").mkdir()),
}
REASONS = {"status.json is a list": "status.json: not a zoo status file",
           "status.json names no status": "status.json: not a zoo status file",
           "train is a list": "config.json: not a zoo run record ('train' has the wrong type)",
           "steps is a string": "config.json: not a zoo run record ('train.steps' has the wrong type)",
           "data is a list": "config.json: not a zoo run record ('data' has the wrong type)",
           "model is a number": "config.json: not a zoo run record ('model' has the wrong type)",
           "config.json is nested too deep": "config.json: not a readable run record (RecursionError)",
           "metrics.jsonl is a folder": "metrics.jsonl: not a regular file (a folder)"}


def _edit_record(run: Path, change) -> None:
    record = json.loads((run / "config.json").read_text())
    change(record)
    (run / "config.json").write_text(json.dumps(record))


@pytest.mark.parametrize("damage", DAMAGE)
def test_one_damaged_run_is_one_unreadable_row_and_the_others_are_listed(zoo_cli, tmp_path, damage):
    root = tmp_path / "runs"
    write_run(root / "healthy")
    DAMAGE[damage](write_run(root / "damaged"))
    code, out, err = zoo_cli("runs", root, "--json")
    assert code == 0, err
    rows = rows_of(out)
    assert rows["healthy"]["status"] == "finished" and rows["healthy"]["step"] == 4
    assert rows["damaged"] == {"run": str(root / "damaged"), "status": "unreadable", "error": REASONS[damage]}
    code, table, err = zoo_cli("runs", root)
    assert code == 0 and not err
    lines = table.splitlines()
    assert len(lines) == 3 and any("healthy" in line and "finished" in line for line in lines)
    assert any("damaged" in line and line.rstrip().endswith(f"unreadable: {REASONS[damage]}") for line in lines)


def test_damaged_figures_in_eval_json_leave_the_run_listed(zoo_cli, tmp_path):
    root = tmp_path / "runs"
    for name, content in (("list", "[]"), ("strings", '{"model": {"fid": "low"}, "info": {"provenance": []}}')):
        (write_run(root / name) / "eval.json").write_text(content)
    code, out, err = zoo_cli("runs", root, "--json")
    assert code == 0, err
    for row in json.loads(out):
        assert row["status"] == "finished" and row["eval"] == {} and row["eval_provenance"] is None


def test_a_2_gb_sparse_metrics_file_costs_its_tail_not_its_size(tmp_path):
    root = tmp_path / "runs"
    run = write_run(root / "sparse")
    records = (run / "metrics.jsonl").read_bytes()
    with open(run / "metrics.jsonl", "r+b") as fh:
        fh.truncate(2**31)  # 2 GiB of zeros that take no disk, then the records a training appended
        fh.seek(0, os.SEEK_END)
        fh.write(b"\n" + records)
    code, out, facts, _ = zoo_runs(root, "--json", timeout=60, memory_mib=1024)  # before: 2.1 GB, 20 s, MemoryError
    row = rows_of(out)["sparse"]
    assert code == 0 and row["status"] == "finished" and row["step"] == 4 and row["losses"] == {"loss_d": 0.5, "loss_g": 1.5}
    if facts["max_rss_mib"] is not None:
        assert facts["max_rss_mib"] < 200, facts  # about 40 MiB: the interpreter, click, and 1 MiB of tail


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_a_metrics_file_linked_to_dev_zero_is_refused_unread(tmp_path):
    root = tmp_path / "runs"
    write_run(root / "healthy")
    run = write_run(root / "endless")
    (run / "metrics.jsonl").unlink()
    (run / "metrics.jsonl").symlink_to("/dev/zero")
    code, out, facts, _ = zoo_runs(root, "--json", timeout=60, memory_mib=1024)  # before: read until out of memory
    rows = rows_of(out)
    assert code == 0 and rows["healthy"]["status"] == "finished"
    assert rows["endless"]["status"] == "unreadable" and rows["endless"]["error"] == "metrics.jsonl: not a regular file (a device)"


def test_a_resume_still_reads_every_record_of_a_long_metrics_file(tmp_path, caplog):
    """keep_metrics_until reads the whole file (in blocks): records across block boundaries, a torn last line and
    a line of junk longer than any record all come out as before."""
    folder = RunFolder(write_run(tmp_path / "long", steps=1))
    lines = [json.dumps({"step": s, "loss_d": s / 7, "note": "x" * 40}) for s in range(2, 30_002)]  # about 2.3 MiB
    with open(folder.metrics, "a") as fh:
        fh.write("\n".join(lines[:10_000]) + "\n" + "j" * (3 * 2**20) + "\n" + "\n".join(lines[10_000:]) + "\n")
        fh.write('{"step": 30002, "lo')  # torn by a crash
    with caplog.at_level("INFO", logger="zoo"):
        kept = folder.keep_metrics_until(25_000)
    assert [r["step"] for r in kept] == list(range(1, 25_001))
    assert kept[-1] == json.loads(lines[24_998])
    assert "dropped 2 torn lines" in caplog.text
    assert folder.read_metrics() == (kept, 0)


def test_listing_imports_neither_torch_nor_numpy(tmp_path):
    root = tmp_path / "runs"
    write_run(root / "a")
    code, out, facts, _ = zoo_runs(root, timeout=60)
    assert code == 0 and "finished" in out
    assert not facts["torch"] and not facts["numpy"]


def test_compare_imports_no_torch(tmp_path):
    """compare draws with matplotlib, which brings numpy; torch stays out."""
    provenance = {"features": "classifier", "features_sha256": "a" * 64, "data_sha256": "b" * 64,
                  "heldout_sha256": "c" * 64, "split": "train/heldout", "n": 20}
    for name, fid in (("a", 12.0), ("b", 9.0)):
        report = {"model": {"fid": fid, "n": 20}, "floor": {}, "info": {"provenance": provenance}}
        (write_run(tmp_path / name) / "eval.json").write_text(json.dumps(report))
    code, out, facts, err = zoo_runs("compare", tmp_path / "a", tmp_path / "b", "--out", tmp_path / "cmp.png",
                                     timeout=120, memory_mib=4096)
    assert code == 0, err
    assert any(line.split()[:3] == ["fid", "12", "9"] for line in out.splitlines()), out
    assert (tmp_path / "cmp.png").stat().st_size > 1000 and not facts["torch"]


def test_the_listing_shows_processes_and_the_images_each_step_sees(zoo_cli, tmp_path):
    """Before: a 2-process run (128 images a step) was listed beside a 1-process one (64) with nothing to tell."""
    root = tmp_path / "runs"
    write_run(root / "two", train={"batch_size": 64}, world={"size": 2, "backend": "gloo"})
    write_run(root / "one", train={"batch_size": 64, "accumulate": 3})
    write_run(root / "old")  # a record without a batch size: unknown, not a guess
    code, out, err = zoo_cli("runs", root, "--json")
    assert code == 0, err
    rows = rows_of(out)
    assert {k: rows["two"][k] for k in ("processes", "batch_size", "accumulate", "effective_batch")} == \
        {"processes": 2, "batch_size": 64, "accumulate": 1, "effective_batch": 128}
    assert (rows["one"]["processes"], rows["one"]["effective_batch"]) == (1, 192)
    assert (rows["old"]["processes"], rows["old"]["effective_batch"]) == (1, None)
    code, table, _ = zoo_cli("runs", root)
    header, *lines = table.splitlines()
    assert header.split()[3:6] == ["STEPS", "PROCS", "BATCH"]
    cells = {line.split()[0]: line.split()[3:6] for line in lines}
    assert cells == {str(root / "two"): ["4/4", "2", "128"], str(root / "one"): ["4/4", "1", "192"],
                     str(root / "old"): ["4/4", "1", "-"]}


def test_compare_sets_processes_and_batch_side_by_side_and_says_why_eval_rows_are_missing(zoo_cli, tmp_path):
    provenance = {"features": "classifier", "features_sha256": "a" * 64, "data_sha256": "b" * 64,
                  "heldout_sha256": "c" * 64, "split": "train/heldout", "n": 20}
    report = {"model": {"fid": 12.0, "n": 20}, "floor": {}, "info": {"provenance": provenance}}
    (write_run(tmp_path / "a", train={"batch_size": 64}) / "eval.json").write_text(json.dumps(report))
    write_run(tmp_path / "b", train={"batch_size": 64}, world={"size": 2})
    code, out, err = zoo_cli("runs", "compare", tmp_path / "a", tmp_path / "b", "--out", tmp_path / "cmp.png")
    assert code == 0, err
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[1:]}
    assert rows["processes"][:3] == ["1", "2", "+1"] and rows["effective_batch"][:3] == ["64", "128", "+64"]
    assert rows["fid"][:2] == ["12", "-"]
    assert "note: the runs see different numbers of images a step: a 64 (64 x 1 process x 1 accumulated), " \
           "b 128 (64 x 2 processes x 1 accumulated)" in err
    assert f"no eval figures for {tmp_path / 'b'}: it has no eval.json (zoo eval {tmp_path / 'b'} makes them)" in err
    assert "no eval figures for " + str(tmp_path / "a") not in err
    code, out, err = zoo_cli("runs", "compare", tmp_path / "a", tmp_path / "b", "--json", "--out", tmp_path / "c.png")
    result = json.loads(out)
    assert result["figures"]["processes"] == [1, 2] and result["figures"]["effective_batch"] == [64, 128]
    assert len(result["notes"]) == 2
    code, _, err = zoo_cli("runs", "compare", tmp_path / "a", tmp_path / "b", "--no-eval", "--out", tmp_path / "d.png")
    assert code == 0 and "eval" not in err  # asked for no evaluations: nothing to explain


def fake_checkpoint(path: Path, step: int) -> None:
    """A safetensors file with a zoo checkpoint's step in its header (no tensors needed to read it)."""
    header = json.dumps({"__metadata__": {"step": str(step)}}).encode()
    path.write_bytes(len(header).to_bytes(8, "little") + header)


def test_an_interrupted_run_shows_the_steps_it_ran_and_the_step_its_checkpoint_holds(zoo_cli, tmp_path):
    """Before: a run interrupted at step 149 of 4000 before its first checkpoint was listed as 0/4000."""
    root = tmp_path / "runs"
    for name, saved in (("none-saved", None), ("saved", 100)):
        folder = write_run(root / name, steps=140, train={"steps": 4000})  # logged every 10 steps: up to 140
        (folder / "status.json").write_text(json.dumps({"status": "interrupted", "step": 149, "error": ""}))
        if saved is not None:
            fake_checkpoint(folder / "checkpoint.safetensors", saved)
    write_run(root / "finished")
    fake_checkpoint(root / "finished" / "checkpoint.safetensors", 4)
    code, out, err = zoo_cli("runs", root, "--json")
    rows = rows_of(out)
    assert code == 0 and [(rows[n]["step"], rows[n]["step_saved"]) for n in ("none-saved", "saved", "finished")] \
        == [(149, None), (149, 100), (4, 4)]
    code, table, _ = zoo_cli("runs", root)
    cells = {Path(line.split()[0]).name: line.split()[3:6] for line in table.splitlines()[1:]}
    assert cells["none-saved"] == ["149/4000", "(saved", "none)"] and cells["saved"] == ["149/4000", "(saved", "100)"]
    assert cells["finished"][0] == "4/4" and "saved" not in cells["finished"][1]
    assert "14.0 min" in table  # the time of the steps logged
