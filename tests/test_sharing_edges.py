"""The edges of sharing a model: export into a symbolic link, a killed export, a model folder without weights, a
config.json naming a model its installed plugin does not register, labels for an unconditional model. Each one
line (or it works), and nothing half-written left behind."""

import json
import os
import shutil
import signal
import subprocess
import sys

import pytest
import torch

import zoo
from test_hostile_checkpoints import one_line, toy_run  # noqa: F401


@pytest.fixture
def run(toy_run, tmp_path, toy):
    copy = tmp_path / "run"
    shutil.copytree(toy_run, copy)
    return copy


def test_export_into_a_symlink_to_an_empty_folder_fills_that_folder(run, zoo_cli, tmp_path):
    """Before: it built everything, then failed "Not a directory"."""
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    code, _, err = zoo_cli("export", run, tmp_path / "link")
    assert code == 0, err
    assert (tmp_path / "link").is_symlink() and (tmp_path / "real" / "model.safetensors").is_file()
    zoo.load_model(tmp_path / "link")
    assert not list(tmp_path.glob(".*.export"))


def test_export_into_a_dangling_symlink_is_one_line_naming_it(run, zoo_cli, tmp_path):
    """Before: the error named an internal temporary folder (.link.PID.export), after the whole export was built."""
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    code, _, err = zoo_cli("export", run, tmp_path / "link")
    one_line(code, err)
    assert f"{tmp_path / 'link'} is a symbolic link to {tmp_path / 'nowhere'}" in err and ".export" not in err, err
    assert not (tmp_path / "nowhere").exists() and not list(tmp_path.glob(".*.export"))


def test_a_model_folder_without_its_weights_says_so(run, zoo_cli, tmp_path):
    """Before: "checkpoint.safetensors: no such checkpoint", a file model folders never hold."""
    code, _, err = zoo_cli("export", run, tmp_path / "model")
    assert code == 0, err
    (tmp_path / "model" / "model.safetensors").unlink()
    code, _, err = zoo_cli("sample", tmp_path / "model", "-n", "4", "--out", tmp_path / "s.png")
    one_line(code, err)
    assert "a model folder without model.safetensors" in err and "checkpoint.safetensors" not in err, err
    (run / "checkpoint.safetensors").unlink()  # a run folder's config.json is no model config: as before
    code, _, err = zoo_cli("sample", run, "-n", "4", "--out", tmp_path / "s.png")
    one_line(code, err)
    assert "checkpoint.safetensors: no such checkpoint" in err, err


def test_a_model_an_installed_plugin_does_not_register_is_not_told_to_install_it(zoo_cli, tiny_npz, tmp_path):
    """Before: "install zoo-dcgan", although zoo-dcgan was installed."""
    from test_export import export, train

    folder = export(zoo_cli, train(zoo_cli, "dcgan", tiny_npz, tmp_path / "run"), tmp_path / "model")
    config = json.loads((folder / "config.json").read_text())
    config["model"] = "dcgan-xl"
    (folder / "config.json").write_text(json.dumps(config))
    code, _, err = zoo_cli("sample", folder, "-n", "4", "--out", tmp_path / "s.png")
    one_line(code, err)
    version = zoo.get_model("dcgan").version
    assert f"needs model 'dcgan-xl', which the installed zoo-dcgan {version} does not register" in err, err
    assert "install zoo-dcgan" not in err and "registered: " in err, err


def test_labels_for_an_unconditional_gan_are_refused(toy, run, zoo_cli, tmp_path):
    model = zoo.load_model(run)
    with pytest.raises(zoo.ZooError, match="is not conditional: it draws no labels"):
        model.sample(2, labels=torch.tensor([0, 1]))
    code, _, err = zoo_cli("sample", run, "-n", "4", "--label", "1", "--out", tmp_path / "s.png")
    one_line(code, err)
    assert not (tmp_path / "s.png").exists()


def test_sigterm_during_export_leaves_no_partial_folder(run, tmp_path):
    """A killed export leaves neither DIR nor its staging folder; one killed harder (-9) leaves a staging folder
    that the next export to DIR removes."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = tmp_path / "model"
    code = ("import sys, time, zoo.store.export_weights as w\n"  # the toy plugin, and an export slowed where it builds
            "sys.path.insert(0, sys.argv[1])\n"
            "from toy import ToyPlugin\nfrom zoo.registry import plugin_host as p\n"
            "p.plugin_manager().register(ToyPlugin(), name='toy')\n"
            "import zoo.sharing.export as e\nsave = e.write_bytes\n"
            "def slow(*a):\n    r = save(*a)\n    print('writing', flush=True)\n    time.sleep(60)\n    return r\n"
            "e.write_bytes = slow\n"
            "from zoo.cli.main import main\nmain(['export', sys.argv[2], sys.argv[3]])\n")
    tests = os.path.dirname(__file__)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        process = subprocess.Popen([sys.executable, "-c", code, tests, str(run), str(out)], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert process.stdout.readline() == "writing\n", process.communicate(timeout=60)
        process.send_signal(sig)
        _, err = process.communicate(timeout=60)
        assert not out.exists()
        if sig == signal.SIGTERM:
            assert process.returncode == 130 and not list(tmp_path.glob(".model.*")), err
        else:
            assert len(list(tmp_path.glob(".model.*.export"))) == 1
    done = subprocess.run([sys.executable, "-c", code.replace("time.sleep(60)", "pass"), tests, str(run), str(out)],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (out / "model.safetensors").is_file() and not list(tmp_path.glob(".model.*"))
