"""report.html: self-contained (no script, images inlined), and it renders in a real headless browser."""

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
