"""Hostile model folders (zoo export's, or downloaded): the hostile-checkpoint corpus as their
``model.safetensors``, a ``config.json`` that lies, files that are no files. ``zoo sample``, ``zoo info`` and
``zoo.load_model`` answer with one line each, run nothing from the folder and never write to it."""

import json
import os
import shutil

import pytest

import zoo
from test_hostile_checkpoints import CANARY, HOSTILE, one_line, reshaped, toy_run, without_tensor  # noqa: F401
from zoo.errors import ZooError


FOLDER_WEIGHTS = {**HOSTILE,  # a model folder's weights are keyed as the model names them, without "model."
                  "weights-wrong-shape": lambda blob, p: reshaped(blob, prefix=""),
                  "weights-missing": lambda blob, p: without_tensor(blob, "generator.")}
FOLDER_BREAKS = {"empty", "pickle-payload", "torch-zip", "seven-bytes", "truncated-header", "truncated-body",
                 "header-length-huge", "header-length-zero", "header-not-json", "header-a-list", "header-deep",
                 "metadata-not-a-dict", "tensor-outside-file", "weights-wrong-shape", "weights-missing"}
# the rest change only the weights file's metadata, which a model folder never reads (config.json says it all)


def lie(**changes):
    """A change to config.json: keys set (None: removed); "a.b" reaches into a table."""
    def change(config):
        for key, value in changes.items():
            table, _, field = key.rpartition(".")
            target = config[table] if table else config
            if value is None:
                target.pop(field, None)
            else:
                target[field] = value
        return json.dumps(config).encode()
    return change


CONFIG_LIES = {
    "not-json": lambda c: b"{oops",
    "not-utf8": lambda c: b"\xff\xfe{}",
    "a-list": lambda c: b"[1, 2]",
    "deep": lambda c: b"[" * 100000 + b"]" * 100000,
    "huge": lambda c: b" " * (17 * 2**20),
    "no-format": lie(format=None),
    "a-run-record": lie(format="zoo-run/2"),
    "model-not-text": lie(model=5),
    "model-unknown": lie(model="no-such-model", plugin={"distribution": "zoo-nosuch", "version": "9.9"}),
    "config-a-list": lie(config=[1, 2]),
    "config-unknown-key": lie(config={"colour": 3}),
    "config-wrong-types": lie(config={"width": "wide"}),
    "config-too-wide": lie(config={"width": 10**6}),
    "shape-short": lie(data_shape=[1, 28]),
    "shape-huge": lie(data_shape=[3, 60000, 60000]),
    "shape-colour": lie(data_shape=[3, 28, 28]),
    "shape-larger": lie(data_shape=[1, 32, 32]),
    "shape-text": lie(data_shape="1x28x28"),
    "classes-billion": lie(num_classes=10**9),
    "classes-text": lie(num_classes="ten"),
    "class-names-numbers": lie(classes=[1, 2]),
    "plugin-not-text": lie(plugin={"distribution": 3}),
    "dtype-unknown": lie(**{"weights.dtype": "float8"}),
    "left-out-not-a-network": lie(**{"weights.left_out": ["__class__"]}),
    "left-out-but-present": lie(**{"weights.left_out": ["generator"]}),
    "step-negative": lie(**{"source.step": -1}),
    "source-a-list": lie(source=[1]),
}


@pytest.fixture(scope="module")
def toy_folder(toy_run, tmp_path_factory):
    """The toy run exported as a model folder, to corrupt."""
    from toy import ToyPlugin
    from zoo.registry import plugin_host as plugins
    from zoo.sharing.export import export_model

    plugins.reset()
    plugins.plugin_manager().register(ToyPlugin(), name="toy")
    try:
        return export_model(toy_run, tmp_path_factory.mktemp("hostile-folder") / "model")
    finally:
        plugins.reset()


def folder_copy(toy_folder, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(toy_folder, folder)
    return folder


@pytest.mark.parametrize("name", sorted(FOLDER_WEIGHTS))
def test_hostile_weights_in_a_model_folder(name, toy_folder, toy, zoo_cli, tmp_path):
    folder = folder_copy(toy_folder, tmp_path)
    weights = folder / "model.safetensors"
    weights.write_bytes(FOLDER_WEIGHTS[name](weights.read_bytes(), tmp_path / "scratch.pt"))
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    code, out, err = zoo_cli("sample", folder, "-n", "2", "--out", tmp_path / "s.png")
    assert CANARY not in out + err
    if name in FOLDER_BREAKS:
        one_line(code, err)
        with pytest.raises(ZooError):
            zoo.load_model(folder)
    else:
        assert code == 0, err
    code, out, err = zoo_cli("info", folder)
    assert CANARY not in out + err and (code == 0 or err.count("\n") == 1), err
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before, "a command wrote to the model folder"


@pytest.mark.parametrize("name", sorted(CONFIG_LIES))
def test_a_config_json_that_lies(name, toy_folder, toy, zoo_cli, tmp_path):
    folder = folder_copy(toy_folder, tmp_path)
    config = folder / "config.json"
    config.write_bytes(CONFIG_LIES[name](json.loads(config.read_text())))
    code, out, err = zoo_cli("sample", folder, "-n", "2", "--out", tmp_path / "s.png")
    one_line(code, err)
    assert not (tmp_path / "s.png").exists()
    if name == "model-unknown":
        assert "needs model 'no-such-model'" in err and "install zoo-nosuch" in err, err
        code, out, _ = zoo_cli("info", folder)
        assert code == 0 and "not installed: pip install zoo-nosuch" in out
    with pytest.raises(ZooError):
        zoo.load_model(folder)


@pytest.mark.parametrize("what", ["config-fifo", "config-device", "config-missing", "weights-folder", "weights-fifo"])
def test_model_folder_files_that_are_not_files(what, toy_folder, toy, zoo_cli, tmp_path):
    folder = folder_copy(toy_folder, tmp_path)
    target = folder / ("config.json" if what.startswith("config") else "model.safetensors")
    target.unlink()
    if what.endswith("fifo"):
        os.mkfifo(target)
    elif what == "config-device":
        target.symlink_to("/dev/zero")
    elif what == "weights-folder":
        target.mkdir()
    code, _, err = zoo_cli("sample", folder, "-n", "2", "--out", tmp_path / "s.png")
    one_line(code, err)
