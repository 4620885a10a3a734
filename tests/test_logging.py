"""zoo as a library logs (``logging.getLogger("zoo....")``) and warns (:class:`zoo.ZooWarning`) instead of printing;
the ``zoo`` command shows both on stderr in the words it always used. These run in fresh processes: the test
session itself shows zoo's output as the command does (tests/conftest.py)."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

import zoo
from zoo.training import distributed

TESTS = Path(__file__).parent
CORE = TESTS.parent / "core"
FP16 = ("--precision fp16 on a CPU is emulated and runs many times slower than fp32 (measured 13x here); it is for "
        "GPUs")


def python(script: str, *args, env: dict | None = None) -> subprocess.CompletedProcess:
    """``script`` in a new interpreter, with the test toy plugin registered in-process."""
    prelude = ("import sys; sys.path.insert(0, sys.argv[1]); from toy import ToyPlugin\n"
               "from zoo.registry import plugin_host; plugin_host.plugin_manager().register(ToyPlugin(), name='toy')\n")
    return subprocess.run([sys.executable, "-c", prelude + script, str(TESTS), *map(str, args)], capture_output=True,
                          text=True, timeout=300, env={**os.environ, **(env or {})})


def mixed_sizes(folder: Path) -> Path:
    """A folder of grey images, most 28x28 and one 40x40: loading it says that it resizes them."""
    for i, side in enumerate((28,) * 7 + (40,)):
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.full((side, side), 20 * i, np.uint8), "L").save(folder / f"{i}.png")
    return folder


def test_no_print_in_core():
    """The library never prints: what it has to say goes to logging or warnings, which a program can silence."""
    printing = []
    for path in sorted(CORE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                printing.append(f"{path.relative_to(CORE.parent)}:{node.lineno}")
    assert printing == []


def test_the_zoo_command_says_information_and_warnings_as_before(tmp_path):
    """Through the real entry point in a fresh process (nothing configured by the test session): an information
    record is "zoo: <message>", a ZooWarning "zoo: warning: <message>", each once, and nothing else on stderr."""
    folder = mixed_sizes(tmp_path / "mixed")
    done = python("from zoo.cli.main import main; main(sys.argv[2:])", "train", "toy-gan", "--data", folder, "--steps",
                  1, "--batch-size", 2, "--sample-every", 0, "--precision", "fp16", "--device", "cpu", "--quiet",
                  "--out", tmp_path / "run", env={"ZOO_HOME": str(tmp_path / "home")})
    assert done.returncode == 0, done.stderr
    assert done.stderr == (f"zoo: images in {folder} differ in size; resizing all to 28x28\n"
                           f"zoo: warning: {FP16}\n")


def test_a_program_hears_warnings_through_the_warnings_module_and_can_silence_zoo(tmp_path):
    """zoo.train() in a program (a notebook): zoo adds no handler, so its information is not shown unless the
    program configures logging; its ZooWarnings show as Python shows warnings; logging and warnings silence both."""
    folder = mixed_sizes(tmp_path / "mixed")
    script = ("import logging, warnings, zoo\n"
              "if sys.argv[2] == 'quiet':\n"
              "    logging.getLogger('zoo').setLevel(logging.ERROR)\n"
              "    warnings.filterwarnings('ignore', category=zoo.ZooWarning)\n"
              "if sys.argv[2] == 'logging':\n"
              "    logging.basicConfig(level=logging.INFO, format='%(name)s: %(message)s')\n"
              "zoo.train('toy-gan', data=sys.argv[3], out=sys.argv[4], steps=1, batch_size=2, sample_every=0,\n"
              "          precision='fp16', device='cpu')\n")
    said = {}
    for how in ("default", "quiet", "logging"):
        done = python(script, how, folder, tmp_path / how, env={"ZOO_HOME": str(tmp_path / f"home-{how}")})
        assert done.returncode == 0, done.stderr
        said[how] = done.stderr
    assert f"ZooWarning: {FP16}" in said["default"] and "zoo: " not in said["default"]
    assert "differ in size" not in said["default"]  # information: only where the program asks for it
    assert "fp16" not in said["quiet"] and "differ in size" not in said["quiet"] and "zoo" not in said["quiet"]
    assert f"zoo.datasets.folder_cache: images in {folder} differ in size; resizing all to 28x28" in said["logging"]


def test_one_answer_to_am_i_rank_0(monkeypatch):
    for name in ("RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    assert distributed.is_rank_zero() and distributed.launched_rank() == 0
    monkeypatch.setenv("RANK", "1")  # RANK alone, without a world of several processes: one process, rank 0
    assert distributed.is_rank_zero()
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert not distributed.is_rank_zero() and distributed.launched_rank() == 1
    assert not distributed.World(1, 2).is_writer and distributed.World(0, 2).is_writer
    monkeypatch.setenv("RANK", "one")  # not a number: error messages still come out (launched_world says why)
    assert distributed.launched_rank() == 0


def test_only_rank_0_says_it_under_torchrun(tmp_path):
    """Every rank meets the same data and options: the zoo command shows what the library says from rank 0 alone."""
    folder = mixed_sizes(tmp_path / "mixed")
    script = ("from zoo.cli.terminal import terminal_output\n"
              "from zoo import datasets\n"
              "with terminal_output(): datasets.load(sys.argv[2])\n")
    for rank, says in (("0", True), ("1", False)):
        done = python(script, folder, env={"RANK": rank, "WORLD_SIZE": "2", "ZOO_HOME": str(tmp_path / rank)})
        assert done.returncode == 0, done.stderr
        assert ("zoo: images in" in done.stderr) == says, done.stderr


def test_the_warning_class_is_public():
    assert issubclass(zoo.ZooWarning, UserWarning) and "ZooWarning" in zoo.__all__
