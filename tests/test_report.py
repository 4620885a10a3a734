"""report.html: self-contained (no script, images inlined), and it renders in a real headless browser."""

import html
import os
import re
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.fixture
def run_with_report(toy, zoo_cli, tmp_path, tiny_npz):
    out = tmp_path / "run"
    code, _, err = zoo_cli("train", toy, "--data", tiny_npz, "--steps", "6", "--batch-size", "8", "--sample-every", "2",
                           "--out", out, "--quiet")
    assert code == 0, err
    assert zoo_cli("eval", out, "-n", "20")[0] == 0
    return out


def test_the_report_is_one_self_contained_file(run_with_report):
    page = (run_with_report / "report.html").read_text()
    assert "<script" not in page and "http://" not in page and "https://" not in page
    images = re.findall(r'src="data:image/png;base64,', page)
    assert len(images) == 1 + 3  # the loss curves and the grids of steps 2, 4 and 6
    assert "step-000002" in page and "step-000006" in page and "held-out real" in page and "&quot;toy-gan&quot;" in page


def screenshot(page, shot):
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1200,1400", f"--screenshot={shot}", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    pixels = np.asarray(Image.open(shot).convert("L"))
    assert pixels.shape == (1400, 1200)
    return (pixels < 230).mean()  # the share of the page that is not white


@pytest.mark.skipif(not CHROMIUM and not os.environ.get("CI"), reason="no Chromium here (CI installs it)")
def test_the_report_renders_in_headless_chromium(run_with_report, tmp_path):
    assert CHROMIUM, "CI must have Chromium: .ci/run installs the distribution's package"
    page = run_with_report / "report.html"
    drawn = screenshot(page, tmp_path / "report.png")
    blank = tmp_path / "no-images.html"  # the same page with every image emptied
    blank.write_text(re.sub(r'src="data:image/png;base64,[^"]*"', 'src=""', page.read_text()))
    without = screenshot(blank, tmp_path / "no-images.png")
    assert drawn - without > 0.08, f"the images cover only {drawn - without:.1%} of the page: they did not render"


def test_names_holding_html_are_escaped_in_the_report(toy, zoo_cli, tmp_path):
    """Class folders, the run folder, sample grid files and eval.json values are text on the page, never markup."""
    import json

    from zoo.outputs.report import write_report
    from zoo.store.run_folder import RunFolder

    rng = np.random.default_rng(0)
    data = tmp_path / "data"
    for cls in ("<script>cat", "dog\"&'<b>"):
        for i in range(12):
            path = data / cls / f"{i}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 255, (28, 28), dtype=np.uint8), "L").save(path)
    out = tmp_path / "run<script>\"&'"
    code, _, err = zoo_cli("train", toy, "--data", data, "--steps", "2", "--batch-size", "8", "--sample-every", "2",
                           "--out", out, "--quiet")
    assert code == 0, err
    assert zoo_cli("eval", out, "-n", "10")[0] == 0
    folder = RunFolder(out)
    shutil.copy(folder.sample_grid(2), out / "samples" / "step-<img src=x onerror=alert(1)>.png")
    report = json.loads(folder.eval_report.read_text())
    report["model"]["n"], report["info"]["seed"] = "<script>", "<i>0</i>"
    folder.eval_report.write_text(json.dumps(report))
    write_report(folder, folder.read_metrics()[0])
    page = (out / "report.html").read_text()
    assert "<script" not in page and "<img src=x" not in page and "<b>" not in page and "<i>" not in page
    assert "&lt;script&gt;cat" in page and "dog\\&quot;&amp;&#x27;&lt;b&gt;" in page  # in the record (JSON-escaped)
    assert html.escape(str(out)) in page and "step-&lt;img src=x onerror=alert(1)&gt;" in page


def test_named_pipes_in_the_run_folder_do_not_stall_the_report(run_with_report):
    """A pipe where a sample grid or eval.json would be is left out of the page; the report is still written."""
    import threading

    from zoo.outputs.report import write_report
    from zoo.store.run_folder import RunFolder

    os.mkfifo(run_with_report / "samples" / "step-000008.png")
    (run_with_report / "eval.json").unlink()
    os.mkfifo(run_with_report / "eval.json")
    folder = RunFolder(run_with_report)
    worker = threading.Thread(target=write_report, args=(folder, folder.read_metrics()[0]), daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "blocked opening a named pipe"
    page = (run_with_report / "report.html").read_text()
    assert "step-000006" in page and "step-000008" not in page and "Evaluation" not in page
