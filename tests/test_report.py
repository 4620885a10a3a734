"""report.html, the page a user opens first: how the run stands (finished, running, interrupted, failed) with its
figures at the top, the latest grid, the evaluation as zoo eval prints it (or how to get one), the configuration
folded; one self-contained file (no script, images inlined, all text escaped) that renders in a real browser."""

import html
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image

from runs import StopAt
from zoo.outputs.report import write_report
from zoo.store.run_folder import RunFolder

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


class Page(HTMLParser):
    """What a reader sees of the page: each paragraph's text and class, the tables' rows, the images' classes,
    and the text inside <details> with its summary."""

    def __init__(self, text: str):
        super().__init__()
        self.paragraphs, self.tables, self.images, self.details, self.summary = [], [], [], "", ""
        self.open, self.in_details = [], False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "p":
            self.paragraphs.append([attrs.get("class", ""), ""])
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.tables[-1][-1].append("")
        elif tag == "img":
            self.images.append(attrs.get("class", ""))
        elif tag == "details":
            self.in_details = True
        self.open.append(tag)

    def handle_endtag(self, tag):
        while self.open and self.open.pop() != tag:
            pass
        if tag == "details":
            self.in_details = False

    def handle_data(self, data):
        where = next((t for t in reversed(self.open) if t in ("p", "td", "th", "summary")), None)
        if where == "p":
            self.paragraphs[-1][1] += data
        elif where in ("td", "th"):
            self.tables[-1][-1][-1] += data
        elif where == "summary":
            self.summary += data
        if self.in_details:
            self.details += data

    def text(self, cls: str) -> list[str]:
        return [text for classes, text in self.paragraphs if cls in classes.split()]


def page_of(run) -> Page:
    return Page((run / "report.html").read_text())


def train(zoo_cli, model, data, out, *options, code=0):
    got, _, err = zoo_cli("train", model, "--data", data, "--batch-size", "8", "--out", out, "--quiet", *options)
    assert got == code, err
    return out


@pytest.fixture
def run_with_report(toy, zoo_cli, tmp_path, tiny_npz):
    out = train(zoo_cli, toy, tiny_npz, tmp_path / "run", "--steps", "6", "--sample-every", "2", "--accumulate", "2",
                "--log-every", "2")
    assert zoo_cli("eval", out, "-n", "20")[0] == 0
    return out


def test_the_report_is_one_self_contained_file(run_with_report):
    page = (run_with_report / "report.html").read_text()
    assert "<script" not in page and "http://" not in page and "https://" not in page
    images = re.findall(r'src="data:image/png;base64,', page)
    assert len(images) == 1 + 3  # the loss curves and the grids of steps 2, 4 and 6
    assert Page(page).images == ["latest", "curves", "grid", "grid"]  # step 6 large, steps 2 and 4 below
    assert "<title>toy-gan on" in page and "Latest samples: step 6" in page and "step 2" in page


def test_a_finished_run_says_so_with_its_time_speed_and_batch(run_with_report):
    page = page_of(run_with_report)
    assert page.text("status")[0].startswith("finished: 6 steps")
    facts = page.text("meta")[0]
    assert re.search(r"\d+\.\d s of training · [\d,]+ images/s", facts), facts
    assert "batch 8 × 1 process × accumulate 2 = 16 images a step" in facts and "precision fp32" in facts


def test_the_evaluation_table_is_the_one_zoo_eval_prints(run_with_report, zoo_cli):
    _, printed, _ = zoo_cli("eval", run_with_report, "-n", "20")
    table = next(t for t in page_of(run_with_report).tables if t[0][:2] == ["metric", "better"])
    assert table[0] == ["metric", "better", "model", "held-out real"]
    lines = [line for line in printed.splitlines()[1:] if line[:18].strip() and ":" not in line[:18]]
    assert table[1:] == [[line[:18].strip(), line[18:26].strip(), line[26:38].strip(), line[38:].strip()]
                         for line in lines]
    better = {row[0]: row[1] for row in table[1:]}
    assert better["fid"] == "lower" and better["precision"] == "higher" and better["diversity"] == "real"


def test_without_an_evaluation_the_page_says_how_to_get_one(toy, zoo_cli, tmp_path, tiny_npz):
    out = train(zoo_cli, toy, tiny_npz, tmp_path / "my run", "--steps", "2")
    page = page_of(out)
    assert not any("held-out real" in cell for table in page.tables for row in table for cell in row)
    hint = next(text for text in page.text("meta") if "Not evaluated yet" in text)
    assert f"zoo eval '{out}'" in hint and "--eval-every N" in hint  # quoted for the shell: the path has a space


def test_an_interrupted_run_says_it_was_interrupted_at_its_step(toy, tmp_path, tiny_npz):
    """Before: a run stopped part way looked like any other (a step count and the grids)."""
    from zoo.training.plan import plan_run
    from zoo.training.trainer import Trainer

    options = {"steps": 8, "batch_size": 8, "sample_every": 2, "log_every": 1, "checkpoint_every": 2}
    plan = plan_run(toy, out=tmp_path / "run", data=str(tiny_npz), options=options)
    with pytest.raises(KeyboardInterrupt):
        Trainer.from_plan(plan, callbacks=[StopAt(5)]).fit()
    folder = RunFolder(tmp_path / "run")
    assert page_of(folder.path).text("status")[0].startswith("interrupted at step 5 of 8")  # rewritten as it stopped
    write_report(folder, folder.read_metrics()[0])  # as zoo eval RUN writes it again
    page = page_of(folder.path)
    assert page.text("status")[0].startswith("interrupted at step 5 of 8")
    assert f"continue from its last checkpoint: zoo train --resume {folder.path}" in page.text("meta")


def test_while_a_session_holds_the_folder_the_page_says_running_until_its_end_is_recorded(toy, zoo_cli, tmp_path,
                                                                                          tiny_npz):
    folder = RunFolder(train(zoo_cli, toy, tiny_npz, tmp_path / "run", "--steps", "4", "--log-every", "1"))
    folder.keep_metrics_until(2)  # as a session resumed at step 2 holds it
    with folder.lock():
        folder.write_record(folder.read_record())  # this session's record, newer than the last one's status
        os.utime(folder.status_file, ns=(1, 1))
        write_report(folder, folder.read_metrics()[0])
        assert page_of(folder.path).text("status")[0].startswith("running: step 2 of 4")
        folder.write_status("interrupted", 3)  # this session's end, recorded before the lock goes
        write_report(folder, folder.read_metrics()[0])
        assert page_of(folder.path).text("status")[0].startswith("interrupted at step 3 of 4")
    folder.write_status("finished", 1)  # a status older than the last logged step is of an earlier session
    write_report(folder, folder.read_metrics()[0])
    assert page_of(folder.path).text("status")[0].startswith("interrupted at step 2 of 4")  # then killed


def test_a_failed_run_shows_its_error(toy, register_plugin, zoo_cli, tmp_path, tiny_npz):
    from toy import ExplodingPlugin

    register_plugin(ExplodingPlugin(), "exploding")
    out = train(zoo_cli, "exploding", tiny_npz, tmp_path / "run", "--steps", "8", "--sample-every", "2", code=1)
    folder = RunFolder(out)
    write_report(folder, folder.read_metrics()[0])
    page = page_of(out)
    assert page.text("status")[0].startswith("failed at step 5 of 8")
    assert "failed at step 5: loss_d is nan" in page.text("error")[0]


def test_the_configuration_is_folded_with_the_class_list_on_one_line(toy, zoo_cli, tmp_path):
    """Before: the raw config.json, one class per line, was more than half the page."""
    rng = np.random.default_rng(0)
    for c in range(25):
        for i in range(2):
            path = tmp_path / "data" / f"class{c:02d}" / f"{i}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 255, (28, 28), dtype=np.uint8), "L").save(path)
    page = page_of(train(zoo_cli, toy, tmp_path / "data", tmp_path / "run", "--steps", "2"))
    assert page.summary == "Configuration"
    data = [text for text in page.text("meta") if text.startswith("data: ")]
    assert len(data) == 1 and "25 classes: class00, class01," in data[0] and data[0].endswith("class19 and 5 more")
    assert "class20" not in page.details
    assert ["steps", "2"] in next(t for t in page.tables if t[0] == ["training"])
    assert next(t for t in page.tables if t[0][0].startswith("model: toy-gan"))[1:], "the model's config rows"
    assert '"steps"' not in (tmp_path / "run" / "report.html").read_text()  # no JSON dump


def screenshot(page, shot):
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1200,1400", f"--screenshot={shot}", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    pixels = np.asarray(Image.open(shot).convert("L"))
    assert pixels.shape == (1400, 1200)
    return pixels < 230  # where the page is not white


@pytest.mark.skipif(not CHROMIUM and not os.environ.get("CI"), reason="no Chromium here (CI installs it)")
@pytest.mark.parametrize("evaluated", [True, False])
def test_the_report_renders_in_headless_chromium(run_with_report, tmp_path, evaluated):
    assert CHROMIUM, "CI must have Chromium: .ci/run installs the distribution's package"
    if not evaluated:
        (run_with_report / "eval.json").unlink()
        write_report(RunFolder(run_with_report), RunFolder(run_with_report).read_metrics()[0])
    page = run_with_report / "report.html"
    dom = Page(subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
                              check=True, capture_output=True, text=True, timeout=120).stdout)
    assert dom.text("status") and dom.text("status")[0].startswith("finished")
    assert dom.images[0] == "latest" and dom.summary == "Configuration" and "batch_size" in dom.details
    if evaluated:
        assert any(table[0] == ["metric", "better", "model", "held-out real"] for table in dom.tables)
    else:
        assert any("Not evaluated yet: run zoo eval" in text for text in dom.text("meta"))
    drawn = screenshot(page, tmp_path / "report.png")
    blank = tmp_path / "no-images.html"  # the same page with every image emptied
    blank.write_text(re.sub(r'src="data:image/png;base64,[^"]*"', 'src=""', page.read_text()))
    without = screenshot(blank, tmp_path / "no-images.png")
    assert drawn.mean() - without.mean() > 0.08, "the images did not render"
    no_latest = tmp_path / "no-latest.html"  # only the latest grid emptied: it fills much of the first screen
    latest = r'class="latest"( alt="[^"]*") src="[^"]*"'
    no_latest.write_text(re.sub(latest, r'class="latest"\1 src=""', page.read_text()))
    first_screen = (drawn[:800] != screenshot(no_latest, tmp_path / "no-latest.png")[:800]).mean()
    assert first_screen > 0.08, f"the latest grid covers only {first_screen:.1%} of the first screen"


def test_names_holding_html_are_escaped_in_the_report(toy, zoo_cli, tmp_path):
    """Class folders, the run folder, sample grid files and eval.json values are text on the page, never markup."""
    rng = np.random.default_rng(0)
    data = tmp_path / "data"
    for cls in ("<script>cat", "dog\"&'<b>"):
        for i in range(12):
            path = data / cls / f"{i}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 255, (28, 28), dtype=np.uint8), "L").save(path)
    out = train(zoo_cli, toy, data, tmp_path / "run<script>\"&'", "--steps", "2", "--sample-every", "2")
    assert zoo_cli("eval", out, "-n", "10")[0] == 0
    folder = RunFolder(out)
    shutil.copy(folder.sample_grid(2), out / "samples" / "step-<img src=x onerror=alert(1)>.png")
    report = json.loads(folder.eval_report.read_text())
    report["model"]["n"], report["info"]["seed"] = "<script>", "<i>0</i>"
    folder.eval_report.write_text(json.dumps(report))
    folder.write_status("failed", 2, "<b>boom</b>")
    write_report(folder, folder.read_metrics()[0])
    page = (out / "report.html").read_text()
    assert "<script" not in page and "<img src=x" not in page and "<b>" not in page and "<i>" not in page
    assert "&lt;script&gt;cat, dog&quot;&amp;&#x27;&lt;b&gt;" in page and "&lt;b&gt;boom&lt;/b&gt;" in page
    assert html.escape(str(out)) in page and "step-&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;script&gt;" in page and "seed &lt;i&gt;0&lt;/i&gt;" in page


def test_named_pipes_in_the_run_folder_do_not_stall_the_report(run_with_report):
    """A pipe where a sample grid, eval.json or status.json would be is left out of the page, which says so."""
    import threading

    os.mkfifo(run_with_report / "samples" / "step-000008.png")
    for name in ("eval.json", "status.json"):
        (run_with_report / name).unlink()
        os.mkfifo(run_with_report / name)
    folder = RunFolder(run_with_report)
    worker = threading.Thread(target=write_report, args=(folder, folder.read_metrics()[0]), daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "blocked opening a named pipe"
    text = (run_with_report / "report.html").read_text()
    assert "step-000006" in text and "step 8" not in text and "step-000008" not in text
    page = Page(text)
    assert page.text("status")[0].startswith("state unknown") and "named pipe" in page.text("error")[0]
    assert any("eval.json could not be read" in text and "named pipe" in text for text in page.text("meta"))



def test_a_run_without_a_checkpoint_is_not_told_to_run_zoo_eval(toy, zoo_cli, tmp_path, tiny_npz):
    """zoo eval RUN fails on a run with no checkpoint (one stopped before its first): the page does not suggest it."""
    folder = RunFolder(train(zoo_cli, toy, tiny_npz, tmp_path / "run", "--steps", "2"))
    folder.checkpoint.unlink()
    code, _, err = zoo_cli("eval", folder.path, "-n", "20")
    assert code == 1, "if zoo eval worked here, the page could suggest it"
    write_report(folder, folder.read_metrics()[0])
    hint = next(text for text in page_of(folder.path).text("meta") if "Not evaluated yet" in text)
    assert hint == "Not evaluated yet: it has no checkpoint yet, and zoo eval reads one."
    (folder.path / "eval.json").write_text("{")
    write_report(folder, folder.read_metrics()[0])
    damaged = next(text for text in page_of(folder.path).text("meta") if "could not be read" in text)
    assert "zoo eval" not in damaged.replace("zoo eval reads one", "")


def test_a_kid_below_zero_is_explained_in_one_line(run_with_report):
    folder = RunFolder(run_with_report)
    report = json.loads((run_with_report / "eval.json").read_text())
    for kid, explained in ((-5.68, True), (3.2, False)):
        report["floor"]["kid"] = kid
        report["model"]["kid"] = abs(kid) + 1
        (run_with_report / "eval.json").write_text(json.dumps(report))
        write_report(folder, folder.read_metrics()[0])
        notes = [text for text in page_of(run_with_report).text("notes") if "KID below 0" in text]
        assert notes == (["KID below 0: KID is an unbiased estimate, so for images as alike as these (held-out real "
                          "ones, say) it scatters around 0, below it too"] if explained else [])
