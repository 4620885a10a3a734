"""Finite weights in and out: an export never writes a value its dtype cannot hold (fp16 would store inf), and
loading refuses tensors holding NaN or inf, or of another dtype than the file and the model say, in one line."""

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file

import zoo
from test_hostile_checkpoints import load_tensors, one_line, split, toy_run  # noqa: F401
from zoo.errors import CheckpointError
from zoo.store.tensor_checks import is_finite, largest_magnitude

def retensored(blob: bytes, change, prefix: str = "model.") -> bytes:
    """The safetensors ``blob`` with ``change(name, tensor)`` applied to its first weight matrix (by name) under ``prefix``: safetensors.load returns its tensors in no fixed order."""
    from safetensors.torch import save

    header, _ = split(blob)
    tensors = load_tensors(blob)
    key = next(k for k in sorted(tensors) if k.startswith(prefix) and tensors[k].dim() > 1)
    tensors[key] = change(tensors[key])
    return save(tensors, metadata=header["__metadata__"])


@pytest.fixture
def run(toy_run, tmp_path, toy):
    copy = tmp_path / "run"
    shutil.copytree(toy_run, copy)
    return copy


@pytest.fixture
def folder(run, zoo_cli, tmp_path):
    code, _, err = zoo_cli("export", run, tmp_path / "model")
    assert code == 0, err
    return tmp_path / "model"


def scaled(factor):
    return lambda t: t * factor


def poisoned(value):
    def change(t):
        t = t.clone()
        t.view(-1)[3] = value
        return t
    return change


def test_an_fp16_export_of_weights_beyond_its_range_is_refused_naming_the_tensor(run, zoo_cli, tmp_path):
    """Before: exit 0, the folder held inf, and zoo sample of it drew an all-black grid at exit 0."""
    ckpt = run / "checkpoint.safetensors"
    ckpt.write_bytes(retensored(ckpt.read_bytes(), scaled(1e8), prefix="model.generator."))
    largest = max(largest_magnitude(t) for k, t in load_file(ckpt).items() if k.startswith("model.generator"))
    assert largest > 65504
    code, _, err = zoo_cli("export", run, tmp_path / "half", "--dtype", "fp16")
    one_line(code, err)
    assert "--dtype fp16: tensor 'generator." in err and "beyond fp16's range (65504)" in err, err
    assert "export with --dtype bf16 or fp32" in err and f"{largest:.6g}" in err, err
    assert not (tmp_path / "half").exists() and not list(tmp_path.glob(".half.*")), "nothing left behind"
    for dtype in ("bf16", "fp32"):  # what the line suggests works, and samples
        code, _, err = zoo_cli("export", run, tmp_path / dtype, "--dtype", dtype)
        assert code == 0, err
        assert all(is_finite(t) for t in load_file(tmp_path / dtype / "model.safetensors").values())


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_a_checkpoint_with_non_finite_weights_is_refused_by_every_command(value, run, zoo_cli, tmp_path):
    """Before: it loaded and sampled a black (or noise) grid at exit 0, and resumed training from NaN."""
    ckpt = run / "checkpoint.safetensors"
    ckpt.write_bytes(retensored(ckpt.read_bytes(), poisoned(value)))
    with pytest.raises(CheckpointError, match="holds NaN or infinite values"):
        zoo.load_model(run)
    for command in (["sample", run, "-n", "4", "--out", tmp_path / "s.png"], ["export", run, tmp_path / "x"],
                    ["train", "--resume", run, "--steps", "6", "--quiet"]):
        code, _, err = zoo_cli(*command)
        one_line(code, err)
        assert "tensor 'model." in err and "holds NaN or infinite values" in err, err
    assert not (tmp_path / "s.png").exists() and not (tmp_path / "x").exists()


def test_non_finite_optimiser_state_is_refused_on_resume(run, zoo_cli):
    ckpt = run / "checkpoint.safetensors"
    ckpt.write_bytes(retensored(ckpt.read_bytes(), poisoned(float("nan")), prefix="optimizer."))
    code, _, err = zoo_cli("train", "--resume", run, "--steps", "6", "--quiet")
    one_line(code, err)
    assert "tensor 'optimizer." in err and "holds NaN or infinite values" in err, err


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_model_folder_with_non_finite_weights_is_refused(value, folder, zoo_cli, tmp_path):
    weights = folder / "model.safetensors"
    weights.write_bytes(retensored(weights.read_bytes(), poisoned(value), prefix=""))
    code, _, err = zoo_cli("sample", folder, "-n", "4", "--out", tmp_path / "s.png")
    one_line(code, err)
    assert f"{weights}: tensor '" in err and "holds NaN or infinite values" in err, err
    code, _, err = zoo_cli("train", "--init-from", folder, "--steps", "1", "--quiet", "--out", tmp_path / "tuned")
    one_line(code, err)
    assert not (tmp_path / "tuned").exists()


def test_a_model_folder_whose_tensors_are_not_the_dtype_config_json_names_is_refused(folder, zoo_cli, tmp_path):
    """int32 weights where config.json says float32 loaded before (load_state_dict casts); fp16 weights under a
    config.json saying float32 too."""
    weights = folder / "model.safetensors"
    original = weights.read_bytes()
    for change, says in ((lambda t: t.round().to(torch.int32), "is int32 where the model holds float32"),
                         (lambda t: t.half(), "is float16, but config.json says float32")):
        weights.write_bytes(retensored(original, change, prefix=""))
        code, _, err = zoo_cli("sample", folder, "-n", "4", "--out", tmp_path / "s.png")
        one_line(code, err)
        assert says in err, err
    assert not (tmp_path / "s.png").exists()


def test_a_checkpoint_whose_weights_are_of_another_dtype_is_refused(run, zoo_cli, tmp_path):
    ckpt = run / "checkpoint.safetensors"
    ckpt.write_bytes(retensored(ckpt.read_bytes(), lambda t: t.double()))
    code, _, err = zoo_cli("sample", run, "-n", "4", "--out", tmp_path / "s.png")
    one_line(code, err)
    assert "is float64 where the model holds float32" in err, err


def test_half_precision_folders_load_as_they_were_exported(run, zoo_cli, tmp_path):
    for dtype, name in (("fp16", "float16"), ("bf16", "bfloat16")):
        code, _, err = zoo_cli("export", run, tmp_path / dtype, "--dtype", dtype)
        assert code == 0, err
        assert json.loads((tmp_path / dtype / "config.json").read_text())["weights"]["dtype"] == name
        zoo.load_model(tmp_path / dtype)


def test_the_checks_read_each_tensor_block_by_block(monkeypatch):
    import zoo.store.tensor_checks as checks

    monkeypatch.setattr(checks, "BLOCK", 7)
    t = torch.arange(100, dtype=torch.float32)
    assert checks.is_finite(t) and checks.largest_magnitude(-t) == 99.0
    t[50] = float("inf")
    assert not checks.is_finite(t) and checks.largest_magnitude(t) == float("inf")
    t[60] = float("nan")
    assert checks.largest_magnitude(t) != checks.largest_magnitude(t)  # nan
    assert checks.is_finite(torch.arange(5)) and checks.is_finite(torch.zeros(0))
