"""zoo eval of conditional models: per-label agreement beside its floor, intra-class FID, the classification
accuracy score; in eval.json, the printed table, report.html and zoo runs compare."""

import json

import numpy as np
import pytest

from label_toy import CLASSES, Stamp, StampConfig, StampPlugin, stamp_data
from zoo.evaluation.conditional import short, wilson
from zoo.evaluation.harness import evaluate
from zoo.datasets.pixels import to_float


@pytest.fixture
def stamps(tmp_path, monkeypatch):
    """(training, held-out) stamp images, the held-out ones with a fifth of them ambiguous (two blocks): a floor
    below 100 %; a private cache and a 3-epoch feature network (a second)."""
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "home"))
    monkeypatch.setattr("zoo.evaluation.classifier.EPOCHS", 3)
    return stamp_data(0, 300), stamp_data(1, 200, doubles=0.2)


@pytest.fixture
def stamp_npz(tmp_path, monkeypatch):
    """A stamp dataset as an .npz for the command line (zoo splits it), a private cache and a 3-epoch network."""
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "home"))
    monkeypatch.setattr("zoo.evaluation.classifier.EPOCHS", 3)
    data = stamp_data(0, 600, doubles=0.1)
    path = tmp_path / "stamps.npz"
    np.savez(path, images=data.images, labels=data.labels)
    return path


def test_wilson_interval_and_shortfall():
    low, high = wilson(45, 50)
    assert low == pytest.approx(0.7864, abs=1e-3) and high == pytest.approx(0.9565, abs=1e-3)  # 90 % of 50
    assert wilson(50, 50) == pytest.approx((0.9287, 1.0), abs=1e-3)  # even a perfect floor has an interval
    assert short(0.60, 500, 45, 50) and not short(0.88, 500, 45, 50)


def test_held_out_images_as_samples_agree_exactly_at_the_floor(stamps):
    train, heldout = stamps
    report = evaluate(train, heldout, samples=to_float(heldout.images), labels=heldout.labels).to_dict()
    entries = report["per_label"]
    assert [e["label"] for e in entries] == list(range(CLASSES))
    assert any(e["floor"] < 1 for e in entries), "the ambiguous images make a floor below 100 %"
    for e in entries:
        assert e["agreement"] == e["floor"] and e["short"] is False
        assert e["floor_low"] <= e["floor"] <= e["floor_high"] and e["floor_n"] == e["n"] == 20
        assert e["fid_matched"] == pytest.approx(e["fid_floor"])
    assert report["model"]["label_agreement"] == report["floor"]["label_agreement"] < 1
    assert report["model"]["labels_short"] == 0


def test_right_labels_agree_at_the_floor_and_shuffled_ones_far_below(stamps):
    train, heldout = stamps
    right = evaluate(train, heldout, model=Stamp(StampConfig(), num_classes=CLASSES), n=500).to_dict()
    shuffled = evaluate(train, heldout, model=Stamp(StampConfig(shuffle=True), num_classes=CLASSES), n=500).to_dict()
    for e in right["per_label"]:
        assert e["n"] == 50 and e["agreement"] >= e["floor_low"] and e["short"] is False
    for e in shuffled["per_label"]:
        assert e["agreement"] < e["floor_low"] / 2 and e["short"] is True
    assert (right["model"]["labels_short"], shuffled["model"]["labels_short"]) == (0, CLASSES)
    # every class is drawn as often either way: FID over all samples cannot tell them apart, the labels' figures can
    assert shuffled["model"]["fid"] < right["floor"]["fid"]
    assert shuffled["model"]["intra_fid"] > 10 * right["floor"]["intra_fid"] > 10 * right["model"]["intra_fid"]
    assert right["cas"]["real"] > 0.9 and right["cas"]["model"] >= right["cas"]["real"] - 0.05
    assert shuffled["cas"]["model"] < 0.2 and shuffled["cas"]["real"] == right["cas"]["real"]
    assert right["model"]["cas"] == right["cas"]["model"] and right["floor"]["cas"] == right["cas"]["real"]


def test_unconditional_samples_have_no_label_figures(stamps):
    train, heldout = stamps
    report = evaluate(train, heldout, samples=to_float(heldout.images)).to_dict()
    assert "per_label" not in report and "cas" not in report and "label_agreement" not in report["model"]


def test_zoo_eval_prints_and_returns_the_label_figures_of_labelled_samples(zoo_cli, tmp_path, stamp_npz):
    samples = tmp_path / "samples.npz"
    drawn = stamp_data(2, 200)
    np.savez(samples, images=drawn.images, labels=drawn.labels)
    code, table, err = zoo_cli("eval", "--samples", samples, "--data", stamp_npz)
    assert code == 0, err
    lines = table.splitlines()
    rows = {line.split()[0]: line.split()[1:] for line in lines}
    for figure, better in (("label_agreement", "higher"), ("labels_short", "lower"), ("intra_fid", "lower"),
                           ("cas", "higher")):
        assert rows[figure][0] == better, table
    header = next(i for i, line in enumerate(lines) if line.split()[:3] == ["label", "n", "agreement"])
    labels = [line.split() for line in lines[header + 1 : header + 1 + CLASSES]]
    assert [row[0] for row in labels] == [str(label) for label in range(CLASSES)]
    assert all(row[1] == "20" and row[2].endswith("%") and "of" in row for row in labels), table
    assert any(line.startswith("cas: a small classifier trained on 200 labelled samples") for line in lines)
    code, out, err = zoo_cli("eval", "--samples", samples, "--data", stamp_npz, "--json")
    report = json.loads(out)
    assert len(report["per_label"]) == CLASSES
    assert {"agreement", "floor", "floor_low", "floor_high", "floor_n", "fid", "fid_floor"} <= set(report["per_label"][0])
    assert {"model", "real", "heldout_n"} <= set(report["cas"])


def test_sample_labels_outside_the_data_are_a_one_line_error(zoo_cli, tmp_path, stamp_npz):
    samples = tmp_path / "samples.npz"
    drawn = stamp_data(2, 40)
    labels = drawn.labels.copy()
    labels[5] = 12
    np.savez(samples, images=drawn.images, labels=labels)
    code, _, err = zoo_cli("eval", "--samples", samples, "--data", stamp_npz)
    assert code == 1 and err.strip() == "Error: sample label 12 is not a class of stamps (0..9)", err


def test_a_conditional_run_keeps_its_label_figures_in_eval_json_report_and_compare(zoo_cli, register_plugin,
                                                                                     tmp_path, stamp_npz):
    register_plugin(StampPlugin(), "stamp")
    runs = {}
    for name, options in (("right", ()), ("shuffled", ("--set", "shuffle=true"))):
        runs[name] = tmp_path / name
        code, _, err = zoo_cli("train", "stamp", "--data", stamp_npz, "--out", runs[name], "--quiet", *options)
        assert code == 0, err
        code, _, err = zoo_cli("eval", runs[name], "-n", "200")
        assert code == 0, err
    saved = json.loads((runs["shuffled"] / "eval.json").read_text())
    assert [e["label"] for e in saved["per_label"]] == list(range(CLASSES))
    assert all({"agreement", "floor", "fid"} <= set(e) for e in saved["per_label"])
    assert saved["cas"]["model"] < 0.3 < saved["cas"]["real"]

    page = (runs["shuffled"] / "report.html").read_text()
    assert "<h2>Per label</h2>" in page and page.count("<td>0.0% short</td>") == CLASSES
    assert "<td>label_agreement</td><td>higher</td>" in page and "<td>cas</td><td>higher</td>" in page
    assert "cas: a small classifier trained on 200 labelled samples" in page

    code, out, err = zoo_cli("runs", "compare", runs["right"], runs["shuffled"], "--out", tmp_path / "cmp.png")
    assert code == 0, err
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[1:]}
    assert rows["labels_short"][:3] == ["0", "10", "+10"]
    assert float(rows["agreement_3"][0]) > 0.5 and rows["agreement_3"][1] == "0"
    assert float(rows["intra_fid_3"][1]) > 10 * float(rows["intra_fid_3"][0])
    assert float(rows["cas"][1]) < float(rows["cas"][0])


@pytest.mark.parametrize("per_label, cas", [
    ("not a list", {"model": "high"}),
    ([1, None, {"label": "x", "agreement": "most"}, {"label": 99, "floor_low": True}], []),
])
def test_label_figures_zoo_did_not_write_leave_the_report_and_compare_standing(zoo_cli, register_plugin, tmp_path,
                                                                             stamp_npz, per_label, cas):
    from zoo.outputs.report import write_report
    from zoo.store.run_folder import RunFolder

    register_plugin(StampPlugin(), "stamp")
    for name in ("a", "b"):
        assert zoo_cli("train", "stamp", "--data", stamp_npz, "--out", tmp_path / name, "--quiet")[0] == 0
        report = {"model": {"fid": 3.0, "n": 20}, "floor": {"fid": 2.0}, "info": {"provenance": {"n": 20}},
                  "per_label": per_label, "cas": cas}
        (tmp_path / name / "eval.json").write_text(json.dumps(report))
    folder = RunFolder(tmp_path / "a")
    write_report(folder, folder.read_metrics()[0])
    page = (tmp_path / "a" / "report.html").read_text()
    assert "<td>fid</td><td>lower</td><td>3.000</td><td>2.000</td>" in page and "could not be read" not in page
    assert "cas:" not in page
    code, out, err = zoo_cli("runs", "compare", tmp_path / "a", tmp_path / "b", "--out", tmp_path / "c.png")
    assert code == 0 and "fid" in out and "agreement_" not in out, err


@pytest.mark.parametrize("labels, says", [
    (lambda y: y[:30], "labels of shape (30,); expected one per image: (40,) or (40, 1)"),
    (lambda y: y + 0.5, "labels must be non-negative integers (class ids), got float64"),
    (lambda y: np.where(y == 3, -1, y), "label -1 is negative"),
    (lambda y: np.where(y == 3, 10, y), "sample label 10 is not a class of stamps (0..9)"),
])
def test_sample_labels_that_do_not_fit_are_one_line(labels, says, zoo_cli, tmp_path, stamp_npz):
    samples = tmp_path / "samples.npz"
    drawn = stamp_data(2, 40)
    np.savez(samples, images=drawn.images, labels=labels(drawn.labels))
    code, out, err = zoo_cli("eval", "--samples", samples, "--data", stamp_npz)
    assert code == 1 and err.startswith("Error: ") and err.count("\n") == 1 and says in err, err
    assert out == ""


def test_samples_without_labels_or_without_some_label_are_scored_and_say_so_in_one_line(zoo_cli, tmp_path,
                                                                                       stamp_npz):
    """Before: both were scored without a word (the label figures silently missing, or a row of '-')."""
    drawn = stamp_data(2, 60)
    np.savez(tmp_path / "unlabelled.npz", images=drawn.images)
    code, table, err = zoo_cli("eval", "--samples", tmp_path / "unlabelled.npz", "--data", stamp_npz)
    assert code == 0, err
    said = [line for line in err.splitlines() if "without labels" in line]
    assert len(said) == 1 and "without per-label figures" in said[0], err
    assert "label_agreement" not in table
    np.savez(tmp_path / "no-threes.npz", images=drawn.images, labels=np.where(drawn.labels == 3, 4, drawn.labels))
    code, table, err = zoo_cli("eval", "--samples", tmp_path / "no-threes.npz", "--data", stamp_npz)
    assert code == 0, err
    said = [line for line in err.splitlines() if "no samples of label" in line]
    assert said == ["zoo: no samples of label 3 (of 10): their per-label figures are '-'"], err
    assert "label_agreement" in table


def test_zoo_sample_of_a_conditional_model_balances_its_labels_and_says_how(zoo_cli, register_plugin, tmp_path,
                                                                            stamp_npz):
    """Before: -n 64 drew seven each of labels 0-8 and one 9."""
    register_plugin(StampPlugin(), "stamp")
    code, _, err = zoo_cli("train", "stamp", "--data", stamp_npz, "--out", tmp_path / "run", "--quiet")
    assert code == 0, err
    code, _, err = zoo_cli("sample", tmp_path / "run", "-n", "64", "--out", tmp_path / "s.npz")
    assert code == 0, err
    labels = np.load(tmp_path / "s.npz")["labels"]
    assert np.bincount(labels).tolist() == [7, 7, 7, 7, 6, 6, 6, 6, 6, 6]
    assert "zoo: 64 images of 10 labels: 7 each of labels 0-3, 6 of the others (-n 70 draws 7 of each)" in err
    code, _, err = zoo_cli("sample", tmp_path / "run", "-n", "70", "--out", tmp_path / "s.png")
    assert code == 0 and "labels" not in err
    code, _, err = zoo_cli("sample", tmp_path / "run", "-n", "64", "--out", tmp_path / "g.png", "--scale", "1")
    from PIL import Image

    grid = np.asarray(Image.open(tmp_path / "g.png"))
    assert grid.shape == (10 * 30 + 2, 7 * 30 + 2)  # one row per label, seven tiles wide
    tile = lambda row, column: grid[2 + 30 * row : 30 * row + 30, 2 + 30 * column : 30 * column + 30]  # noqa: E731
    assert tile(3, 6).max() > 0 and tile(4, 6).max() == 0  # label 3 has a seventh image, label 4 none
