"""What ``pip install`` gives a user: the core's and every plugin's wheel, built from this checkout and installed
(not editable) into a fresh virtual environment, where the main commands must work."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = sorted(p for p in (ROOT / "plugins").iterdir() if (p / "pyproject.toml").exists())
pytestmark = pytest.mark.slow


def source_files() -> list[str]:
    """Where each module of the checkout lands in the wheel: core/ is the package ``zoo``, cli/ is ``zoo.cli``."""
    return [f"{package}/{path.relative_to(ROOT / folder).as_posix()}"
            for folder, package in (("core", "zoo"), ("cli", "zoo/cli"))
            for path in sorted((ROOT / folder).rglob("*.py"))]


def source_modules() -> list[str]:
    names = [f.removesuffix(".py").removesuffix("/__init__").replace("/", ".") for f in source_files()]
    return [name for name in names if not name.endswith("__main__")]


def torch_requirement() -> str:
    """The torch pin of requirements-dev.txt, so the fresh environment gets the same CPU build."""
    lines = (ROOT / "requirements-dev.txt").read_text().splitlines()
    return next(line.strip() for line in lines if line.strip().startswith("torch=="))


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> Path:
    """Wheels built from a clean copy of the checkout: a build/ or .egg-info left by an earlier build can hold
    files that the packaging no longer lists, and would hide exactly the bug this guards against."""
    clean = tmp_path_factory.mktemp("checkout") / "zoo"
    shutil.copytree(ROOT, clean, ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__", "runs"))
    out = tmp_path_factory.mktemp("wheels")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out),
                    str(clean), *(str(clean / "plugins" / p.name) for p in PLUGINS)], check=True)
    return out


def test_the_core_wheel_holds_every_module_and_the_bundled_data(wheels):
    (core,) = wheels.glob("zoo_core-*.whl")
    files = set(zipfile.ZipFile(core).namelist())
    missing = sorted(set(source_files()) - files)
    assert not missing, f"the zoo-core wheel lacks {missing}"
    assert "zoo/datasets/mnist_5k.npz" in files
    assert "zoo/evaluation/feature_network_mnist_5k.safetensors" in files  # the bundled data's feature space


@pytest.fixture(scope="module")
def installed(wheels, tmp_path_factory) -> dict:
    """A fresh venv with the wheels (and torch) installed; returns how to run commands in it."""
    root = tmp_path_factory.mktemp("venv")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", torch_requirement(), *map(str, sorted(wheels.glob("*.whl")))],
                   check=True)
    work = root / "work"  # outside the checkout, so nothing is imported from the source tree
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ZOO_", "PYTHON"))}
    env["ZOO_HOME"] = str(root / "home")
    return {"bin": venv / "bin", "cwd": work, "env": env}


def run(installed, *args, check=True) -> subprocess.CompletedProcess:
    exe = args[0] if args[0] == "python" else "zoo"
    argv = [str(installed["bin"] / exe), *(args[1:] if exe == "python" else args)]
    result = subprocess.run(argv, cwd=installed["cwd"], env=installed["env"], capture_output=True, text=True)
    if check:
        assert result.returncode == 0, f"{' '.join(map(str, args))}: {result.stderr[-2000:]}"
    return result


def test_every_module_imports_from_the_installed_wheel(installed):
    modules = source_modules()
    result = run(installed, "python", "-c", f"import importlib; [importlib.import_module(m) for m in {modules!r}]; "
                 "import zoo; print(zoo.__file__)")
    assert "site-packages" in result.stdout


def test_the_installed_commands_work(installed):
    result = run(installed, "list")
    assert all(name in result.stdout for name in ("autoencoder", "cgan", "dcgan", "vae", "wgan-gp"))
    strict = dict(installed, env={**installed["env"], "ZOO_STRICT_PLUGINS": "1"})
    assert "failed" not in run(strict, "python", "-m", "zoo", "plugins").stdout

    from zoo import datasets

    mnist = datasets.load("mnist")
    pick = np.arange(0, len(mnist), 10)  # 500 digits, every class
    np.savez(installed["cwd"] / "small.npz", images=mnist.images[pick, 0], labels=mnist.labels[pick])
    run(installed, "train", "dcgan", "--data", "small.npz", "--steps", "4", "--batch-size", "16", "--set", "width=8",
        "--sample-every", "2", "--out", "run", "--quiet")
    run(installed, "train", "--resume", "run", "--steps", "6", "--quiet")
    run(installed, "sample", "run", "-n", "20", "--out", "samples.npz")
    report = run(installed, "eval", "--samples", "samples.npz", "--data", "small.npz", "-n", "20")
    assert "fid" in report.stdout
    report = run(installed, "eval", "run", "-n", "20")
    assert "fid" in report.stdout
