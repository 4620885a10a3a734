"""benchmarks/quality.py, docs/quality.md's table: a thin caller of ``zoo bench`` that adds the plain-PyTorch
references and the bars, reads every zoo figure from bench.json, continues its bench folder without retraining,
and prints the command that made the table above it."""

import importlib.util
import json
import os
from pathlib import Path

import pytest

from toy import ToyFlowPlugin

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def quality(monkeypatch, register_plugin):
    """The script as a module, toy-flow registered, the plain VAE reference cut to 3 steps."""
    register_plugin(ToyFlowPlugin(), "toy-flow")
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location("quality_script", BENCHMARKS / "quality.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    import plain_references

    monkeypatch.setitem(plain_references.REFERENCES, "vae", (plain_references.plain_vae, 3))
    from zoo.evaluation import harness  # the VAE's IW-NLL with 4 importance samples, not 100: seconds, not a minute

    monkeypatch.setitem(harness.evaluate.__kwdefaults__, "iw_samples", 4)
    return module


def table_rows(stdout: str) -> dict[str, list[str]]:
    """The Markdown table's rows by their first cell."""
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in stdout.splitlines() if line.startswith("| ")]
    return {row[0]: row for row in rows}


def stamps(out: Path) -> dict[str, int]:
    files = [*out.glob("*/checkpoint.safetensors"), *out.glob("references/*.json")]
    return {str(path): os.stat(path).st_mtime_ns for path in files}


@pytest.mark.slow  # half a minute: two short runs and a plain reference on MNIST, scored, then the folder continued
def test_the_table_comes_from_the_bench_with_references_bars_and_its_command(quality, capsys, tmp_path):
    out, grids = tmp_path / "bench", tmp_path / "grids"
    args = ["--models", "vae", "toy-flow", "--steps", "2", "-n", "20", "--references", "--reference-models", "vae",
            "--out", str(out), "--grids", str(grids), "--json", str(tmp_path / "rows.json")]
    quality.main(args)
    printed = capsys.readouterr().out
    lines = printed.splitlines()
    command = f"`python benchmarks/quality.py {' '.join(args)}`"
    assert lines.index(command) < next(i for i, line in enumerate(lines) if line.startswith("| model |"))
    document = json.loads((out / "bench.json").read_text())
    runs = {run["model"]: run for run in document["runs"]}
    rows = table_rows(printed)
    heading = rows["model"]
    vae, flow, plain = rows["vae"], rows["toy-flow"], rows["plain PyTorch vae (reference)"]
    assert vae[heading.index("FID")] == f"{runs['vae']['figures']['fid']:.2f}"  # read from bench.json, as scored
    assert vae[heading.index("held-out ELBO / IW-NLL (nats)")] != "-"
    assert flow[heading.index("FID, 10 sampler steps")] == f"{runs['toy-flow']['fid_10_steps']:.2f}"
    assert plain[heading.index("steps")] == "3"
    met = float(vae[heading.index("FID")]) < float(plain[heading.index("FID")])
    assert vae[heading.index("bar")] == "FID below the plain VAE's" and vae[heading.index("met")] == ("yes" if met else "no")
    assert flow[heading.index("bar")] == "-"
    assert rows["held-out real images (the floor)"][heading.index("FID")] == f"{runs['vae']['floor']['fid']:.2f}"
    assert (grids / "vae.png").read_bytes() == (out / runs["vae"]["grid"]).read_bytes()
    assert json.loads((tmp_path / "rows.json").read_text())["command"] == command.strip("`")

    before = stamps(out)
    assert len(before) == 3  # two runs and the reference's row
    quality.main(args)  # the folder holds the bench: continued, nothing trained or scored again
    assert table_rows(capsys.readouterr().out) == rows and stamps(out) == before

    with pytest.raises(SystemExit) as stopped:
        quality.main(["--models", "vae", "toy-flow", "--steps", "3", "-n", "20", "--out", str(out)])
    assert "holds a bench of other settings (steps 2, not 3)" in str(stopped.value)


def test_by_default_each_model_trains_with_its_own_defaults(quality, capsys, tmp_path):
    quality.main(["--models", "toy-flow", "-n", "20", "--out", str(tmp_path / "bench")])
    settings = json.loads((tmp_path / "bench" / "bench.json").read_text())["settings"]
    assert settings["defaults"] is True and settings["steps"] == 0 and settings["minutes"] == 0
    assert table_rows(capsys.readouterr().out)["toy-flow"][1] == "4"  # toy-flow's default steps


@pytest.mark.parametrize("model, figures, met", [
    ("dcgan", {"fid": 174, "min_class_share": 0.05}, True),
    ("dcgan", {"fid": 175, "min_class_share": 0.5}, False),
    ("wgan-gp", {"fid": 100, "min_class_share": 0.04}, False),
    ("ddpm", {"fid": 217, "min_class_share": 0.08, "sampling_minutes": 2.0}, True),
    ("flow-matching", {"fid": 100, "min_class_share": 0.08, "sampling_minutes": 2.1}, False),
    ("cgan", {"fid": 30, "labels_short": 0}, True),
    ("cgan", {"fid": 36, "labels_short": 0}, False),
    ("cgan", {"fid": 30, "labels_short": 1}, False),
])
def test_each_bar_is_met_only_by_figures_that_reach_it(quality, model, figures, met):
    assert quality.bar(model, figures, floor=23.3, table={})[1] is met


def test_a_vae_is_held_to_the_plain_vae_only_when_that_row_is_there(quality):
    plain = {quality.PLAIN_VAE: {"fid": 300.0}}
    assert quality.bar("vae", {"fid": 299.0}, 23.3, plain) == ("FID below the plain VAE's", True)
    assert quality.bar("autoencoder", {"fid": 301.0}, 23.3, plain)[1] is False
    assert quality.bar("vae", {"fid": 1.0}, 23.3, {}) is None
