"""``zoo bench``: several models trained one after another under one budget, scored alike, set side by side in
bench.json and index.html; an interrupted bench continues without retraining; a recorded budget repeats exactly."""

import json
import os
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image
from test_report import CHROMIUM, Page, screenshot

from runs import same_weights
from toy import ToyFlowPlugin
from zoo.bench import table
from zoo.bench.runs import default_models
import zoo
from zoo import datasets

FAST = ["--steps", "2", "-n", "20", "--quiet", "--batch-size", "8"]


@pytest.fixture
def two_models(toy, register_plugin):
    register_plugin(ToyFlowPlugin(), "toy-flow")
    return ["toy-gan", "toy-flow"]


@pytest.fixture
def benched(two_models, zoo_cli, tmp_path, tiny_npz):
    out = tmp_path / "bench"
    code, stdout, err = zoo_cli("bench", *two_models, "--data", tiny_npz, "--seeds", "0,1", "--out", out, *FAST)
    assert code == 0, err
    return out, stdout


def test_bench_trains_every_model_and_seed_and_sets_them_side_by_side(benched, zoo_cli):
    out, stdout = benched
    document = json.loads((out / "bench.json").read_text())
    runs = [(run["model"], run["seed"]) for run in document["runs"]]
    assert runs == [("toy-gan", 0), ("toy-gan", 1), ("toy-flow", 0), ("toy-flow", 1)]
    assert all(run["steps"] == 2 and run["sample_seconds_per_1000"] > 0 and run["figures"]["n"] == 20
               for run in document["runs"])
    assert document["runs"][0]["floor"] == document["runs"][3]["floor"]  # one data, one setting: one floor
    assert [run["fid_10_steps"] is None for run in document["runs"]] == [True, True, False, False]  # toy-flow's Euler
    lines = stdout.splitlines()
    assert "budget: 2 steps each, seeds 0, 1" in lines[0]
    assert lines[1].split()[:3] == ["model", "FID", "KID"] and lines[2].split()[:3] == ["better", "lower", "lower"]
    assert [line.split()[0] for line in lines[3:5]] == ["toy-gan", "toy-flow"] and lines[5].startswith("held-out real")
    rows = table.lines(document)
    column = rows[0].index("FID, 10 sampler steps")
    assert rows[2][column] == "-" and rows[3][column] != "-"  # toy-gan has no sampler steps to give
    code, listing, _ = zoo_cli("runs", out)  # each run an ordinary run folder
    assert code == 0 and all(f"toy-{m}-seed{s}" in listing for m in ("gan", "flow") for s in (0, 1))
    page = (out / "index.html").read_text()
    assert page.count('src="data:image/png;base64,') == 4 and "held-out real" in page


def test_an_interrupted_bench_continues_without_retraining_finished_runs(benched, zoo_cli):
    out, _ = benched
    before = json.loads((out / "bench.json").read_text())
    kept = {run["run"]: os.stat(out / run["run"] / "checkpoint.safetensors").st_mtime_ns for run in before["runs"][:3]}
    shutil.rmtree(out / before["runs"][3]["run"])  # as if the bench had been stopped during its last run
    older = {k: v for k, v in before["settings"].items() if k != "defaults"}  # written before --defaults existed
    (out / "bench.json").write_text(json.dumps({**before, "settings": older, "runs": before["runs"][:3]}))
    code, _, err = zoo_cli("bench", "--resume", out, "--quiet")
    assert code == 0, err
    after = json.loads((out / "bench.json").read_text())
    assert {run: os.stat(out / run / "checkpoint.safetensors").st_mtime_ns for run in kept} == kept
    assert after["runs"][3]["figures"] == before["runs"][3]["figures"]  # trained again: the same figures, exactly


def test_a_budget_in_minutes_is_recorded_and_its_steps_repeat_the_figures(toy, zoo_cli, tmp_path, tiny_npz):
    common = ["toy-gan", "--data", tiny_npz, "-n", "20", "--quiet", "--batch-size", "8"]
    code, _, err = zoo_cli("bench", *common, "--minutes", "0.02", "--out", tmp_path / "minutes")
    assert code == 0, err
    run = json.loads((tmp_path / "minutes" / "bench.json").read_text())["runs"][0]
    assert run["budget"]["minutes"] == 0.02 and run["budget"]["steps"] == run["steps"] > 0
    code, _, err = zoo_cli("bench", *common, "--steps", run["steps"], "--out", tmp_path / "steps")
    assert code == 0, err
    again = json.loads((tmp_path / "steps" / "bench.json").read_text())["runs"][0]
    assert again["figures"] == run["figures"] and again["steps"] == run["steps"]


def test_with_defaults_each_model_trains_as_zoo_train_trains_it(two_models, zoo_cli, tmp_path, tiny_npz):
    out = tmp_path / "defaults"
    code, stdout, err = zoo_cli("bench", *two_models, "--data", tiny_npz, "--defaults", "--out", out, "-n", "20",
                                "--quiet", "--batch-size", "8")
    assert code == 0, err
    document = json.loads((out / "bench.json").read_text())
    assert document["settings"]["defaults"] is True
    assert [(run["model"], run["steps"]) for run in document["runs"]] == [("toy-gan", 6), ("toy-flow", 4)]
    assert "budget: each model's defaults" in stdout.splitlines()[0]
    assert "budget: each model&#x27;s defaults" in (out / "index.html").read_text()
    code, _, err = zoo_cli("train", "toy-gan", "--data", tiny_npz, "--seed", "0", "--batch-size", "8", "--out",
                           tmp_path / "trained", "--quiet")
    assert code == 0, err
    assert same_weights(out / "toy-gan-seed0", tmp_path / "trained")
    code, _, err = zoo_cli("bench", "--resume", out, "--quiet")  # all trained and scored: nothing done again
    assert code == 0, err
    assert json.loads((out / "bench.json").read_text())["runs"] == document["runs"]


@pytest.mark.parametrize("args, message", [
    (["--steps", "2", "--minutes", "1"], "one of them"),
    (["--defaults", "--steps", "2"], "one of them"),
    (["--defaults", "--minutes", "1"], "one of them"),
    (["-n", "20"], "one of them"),
    (["--resume", "{tmp}", "--defaults"], "leave out --defaults"),
    (["--seeds", "a,b", "--steps", "2"], "--seeds a,b: whole numbers"),
    (["--resume", "{tmp}", "--steps", "2"], "leave out --steps"),
    (["--resume", "{tmp}"], "no bench.json there"),
    (["no-such-model", "--steps", "2"], "unknown model 'no-such-model'"),
])
def test_bad_bench_input_is_one_line(toy, zoo_cli, tmp_path, tiny_npz, args, message):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    data = [] if "--resume" in args else ["--data", tiny_npz, "--out", tmp_path / "b"]
    code, _, err = zoo_cli("bench", *args, *data, "--quiet")
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert not (tmp_path / "b" / "bench.json").exists()


def test_an_existing_out_folder_is_refused(benched, zoo_cli, tiny_npz):
    out, _ = benched
    code, _, err = zoo_cli("bench", "toy-gan", "--data", tiny_npz, "--out", out, *FAST)
    assert code == 1 and f"continue it with zoo bench --resume {out}" in err


def colour_folder(tmp_path):
    """Two labelled folders of 40x40 RGB pictures, which --image-size 32 makes 3x32x32 data."""
    rng = np.random.default_rng(0)
    for label in ("cats", "dogs"):
        for i in range(24):
            path = tmp_path / "colour-pictures" / label / f"{i}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8), "RGB").save(path)
    return tmp_path / "colour-pictures"


def test_on_a_colour_folder_the_models_that_declare_its_shape_are_benched(toy, zoo_cli, tmp_path):
    folder = colour_folder(tmp_path)
    data = datasets.load(str(folder), 32)
    chosen = default_models(data)
    assert "toy-gan" in chosen
    assert all((3, 32, 32) in zoo.get_model(name).data_shapes for name in chosen)
    code, _, err = zoo_cli("bench", "toy-gan", "--data", folder, "--image-size", "32", "--out",
                           tmp_path / "b", *FAST)
    assert code == 0, err
    assert json.loads((tmp_path / "b" / "toy-gan-seed0" / "config.json").read_text())["data"]["shape"] == [3, 32, 32]


@pytest.mark.slow
def test_every_installed_model_that_declares_32x32x3_benches_on_a_colour_folder(zoo_cli, tmp_path):
    declared = sorted(name for name in zoo.list_models() if (3, 32, 32) in zoo.get_model(name).data_shapes)
    assert {"dcgan", "vae", "flow-matching", "ddpm"} <= set(declared)
    code, stdout, err = zoo_cli("bench", "--data", colour_folder(tmp_path), "--image-size", "32", "--out",
                                tmp_path / "b", *FAST)
    assert code == 0, err
    document = json.loads((tmp_path / "b" / "bench.json").read_text())
    assert sorted(run["model"] for run in document["runs"]) == declared
    for run in document["runs"]:
        assert run["steps"] == 2 and np.isfinite(run["figures"]["fid"]) and run["sample_seconds_per_1000"] > 0
        assert json.loads((tmp_path / "b" / run["run"] / "config.json").read_text())["data"]["shape"] == [3, 32, 32]
        assert Image.open(tmp_path / "b" / run["grid"]).mode == "RGB"
        assert run["model"] in stdout


@pytest.mark.skipif(not CHROMIUM and not os.environ.get("CI"), reason="no Chromium here (CI installs it)")
def test_the_bench_page_renders_in_headless_chromium(benched, tmp_path):
    assert CHROMIUM, "CI must have Chromium: .ci/run installs the distribution's package"
    out, _ = benched
    page = out / "index.html"
    dom = Page(subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
                              check=True, capture_output=True, text=True, timeout=120).stdout)
    table = next(t for t in dom.tables if t and t[0][:2] == ["model", "FID"])
    assert [row[0] for row in table[1:]] == ["better", "toy-gan", "toy-flow", "held-out real"]
    assert len(dom.images) == 4
    drawn = screenshot(page, tmp_path / "bench.png")
    assert drawn.mean() > 0.05, "the page drew next to nothing"
