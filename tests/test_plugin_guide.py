"""docs/plugins.md as a plugin author meets it: every ``# file:`` block, exactly as printed, makes three
installable plugins; pip installs them and their own tests pass."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "plugins.md"
BLOCK = re.compile(r"^```[a-z]*\n# file: (?P<path>\S+)\n(?P<body>.*?)^```$", re.S | re.M)
pytestmark = pytest.mark.slow


def guide_files() -> dict[str, str]:
    return {m["path"]: m["body"] for m in BLOCK.finditer(GUIDE.read_text())}


def test_every_code_block_of_the_guide_is_a_file():
    blocks = re.findall(r"^```", GUIDE.read_text(), re.M)
    assert len(blocks) == 2 * len(guide_files()), "a code block of the guide is not tested: give it a '# file:' line"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    src, site = tmp_path_factory.mktemp("authors"), tmp_path_factory.mktemp("site")
    for path, body in guide_files().items():
        (src / path).parent.mkdir(parents=True, exist_ok=True)
        (src / path).write_text(body)
    packages = sorted({path.split("/")[0] for path in guide_files()})
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--target",
                    str(site), *(str(src / p) for p in packages)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZOO_")}
    env.update(PYTHONPATH=str(site), ZOO_HOME=str(src / "zoo-home"), ZOO_STRICT_PLUGINS="1")
    return {"src": src, "packages": packages, "env": env}


def test_the_guides_plugins_install_and_pass_their_own_tests(installed):
    assert installed["packages"] == ["extras", "rk2", "sngan", "tinyflow", "tinyvae"]
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             *(f"{p}/tests" for p in installed["packages"])],
                            cwd=installed["src"], env=installed["env"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert re.search(r"\d+ passed", result.stdout)


def test_zoo_sees_what_they_register(installed):
    def zoo(*args):
        result = subprocess.run([sys.executable, "-m", "zoo", *args], cwd=installed["src"], env=installed["env"],
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert {"sngan", "tinyvae", "tinyflow"} <= set(zoo("list").split())
    assert "--steps" in zoo("info", "tinyflow")
    assert "rals" in zoo("list", "--kind", "losses")
    assert "csv-log" in zoo("list", "--kind", "callbacks") and "stripes" in zoo("list", "--kind", "datasets")
    assert "pixels" in zoo("list", "--kind", "features")
    assert "rk2" in zoo("list", "--kind", "samplers") and "--stage" in zoo("info", "rk2")
