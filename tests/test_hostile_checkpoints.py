"""Hostile checkpoint files: every entry point that reads one (``zoo.load_model``, ``zoo sample``, ``zoo eval``,
``zoo train --resume``) answers with one line, never a traceback, never by running code from the file. Hostile
model folders (zoo export's): test_hostile_model_folders.py, with this corpus."""

import json
import os
import pickle
import shutil
import struct

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import save

import zoo
from zoo.store.checkpoint import load_checkpoint
from zoo.errors import ZooError

CANARY = "ZOO-CANARY-7f3a"


class Payload:
    def __reduce__(self):
        return (print, (CANARY,))


def split(blob: bytes) -> tuple[dict, bytes]:
    size = struct.unpack("<Q", blob[:8])[0]
    return json.loads(blob[8 : 8 + size]), blob[8 + size :]


def join(header: dict, body: bytes) -> bytes:
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + body


def with_meta(blob: bytes, **changes) -> bytes:
    header, body = split(blob)
    meta = header["__metadata__"]
    for key, value in changes.items():
        if value is None:
            meta.pop(key, None)
        else:
            meta[key] = value
    return join(header, body)


def without_tensor(blob: bytes, prefix: str) -> bytes:
    header, body = split(blob)
    tensors = {k: v for k, v in load_tensors(blob).items() if not k.startswith(prefix)}
    return save(tensors, metadata=header["__metadata__"])


def load_tensors(blob: bytes) -> dict:
    from safetensors.torch import load

    return load(blob)


def reshaped(blob: bytes, prefix: str = "model.") -> bytes:
    header, _ = split(blob)
    tensors = load_tensors(blob)
    key = next(k for k in sorted(tensors) if k.startswith(prefix) and tensors[k].dim() > 1)
    tensors[key] = torch.zeros(3, 3)
    return save(tensors, metadata=header["__metadata__"])


def lying_offsets(blob: bytes) -> bytes:
    header, body = split(blob)
    name = next(k for k in header if k != "__metadata__")
    header[name]["data_offsets"] = [0, len(body) * 1000]
    return join(header, body)


def torch_zip(path):
    torch.save({"model": torch.zeros(2)}, path)  # a legacy .pt file renamed
    return path.read_bytes()


HOSTILE = {
    "empty": lambda blob, p: b"",
    "pickle-payload": lambda blob, p: pickle.dumps(Payload()),
    "torch-zip": lambda blob, p: torch_zip(p),
    "seven-bytes": lambda blob, p: blob[:7],
    "truncated-header": lambda blob, p: blob[:40],
    "truncated-body": lambda blob, p: blob[: len(blob) // 2],
    "header-length-huge": lambda blob, p: struct.pack("<Q", 2**63) + blob[8:],
    "header-length-zero": lambda blob, p: struct.pack("<Q", 0) + blob[8:],
    "header-not-json": lambda blob, p: struct.pack("<Q", 5) + b"nope!" + blob[13:],
    "header-a-list": lambda blob, p: join([1, 2], b""),  # type: ignore[arg-type]
    "header-deep": lambda blob, p: join({"__metadata__": {"format": "zoo-checkpoint/1"}, "x": json.loads("[" * 50 + "]" * 50)}, b""),
    "not-zoo": lambda blob, p: with_meta(blob, format=None),
    "metadata-not-a-dict": lambda blob, p: join({**split(blob)[0], "__metadata__": ["format"]}, split(blob)[1]),
    "no-architecture": lambda blob, p: with_meta(blob, architecture=None),
    "unknown-architecture": lambda blob, p: with_meta(blob, architecture="no-such-model"),
    "config-not-json": lambda blob, p: with_meta(blob, config="{oops"),
    "config-a-list": lambda blob, p: with_meta(blob, config="[1, 2]"),
    "config-deep": lambda blob, p: with_meta(blob, config="[" * 100000 + "]" * 100000),
    "config-wrong-types": lambda blob, p: with_meta(blob, config=json.dumps({"width": "wide"})),
    "config-unknown-key": lambda blob, p: with_meta(blob, config=json.dumps({"colour": 3})),
    "step-negative": lambda blob, p: with_meta(blob, step="-5"),
    "step-text": lambda blob, p: with_meta(blob, step="many"),
    "data-shape-short": lambda blob, p: with_meta(blob, data_shape="[1, 28]"),
    "data-shape-zero": lambda blob, p: with_meta(blob, data_shape="[0, 28, 28]"),
    "data-shape-huge": lambda blob, p: with_meta(blob, data_shape="[3, 60000, 60000]"),
    "num-classes-text": lambda blob, p: with_meta(blob, num_classes='"ten"'),
    "optimizers-a-list": lambda blob, p: with_meta(blob, optimizers="[]"),
    "trainer-a-number": lambda blob, p: with_meta(blob, trainer="3"),
    "trainer-damaged": lambda blob, p: with_meta(blob, trainer=json.dumps({"batches": {"epoch": -1, "position": 10**9}})),
    "tensor-outside-file": lambda blob, p: lying_offsets(blob),
    "weights-wrong-shape": lambda blob, p: reshaped(blob),
    "weights-missing": lambda blob, p: without_tensor(blob, "model.generator"),
    "optimizer-tensors-missing": lambda blob, p: without_tensor(blob, "optimizer.discriminator"),
    "rng-missing": lambda blob, p: without_tensor(blob, "rng."),
}


SAMPLING_ONLY = ("optimizer-tensors-missing", "rng-missing", "trainer-damaged")  # broken for resume alone


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    """A real 3-step toy run (its folder and checkpoint bytes) to corrupt."""
    from toy import ToyPlugin
    from zoo.registry import plugin_host as plugins
    from zoo.cli.main import main

    root = tmp_path_factory.mktemp("hostile")
    rng = np.random.default_rng(0)
    np.savez(root / "tiny.npz", images=rng.integers(0, 256, (64, 28, 28), dtype=np.uint8), labels=np.arange(64) % 2)
    out = root / "run"
    plugins.reset()
    plugins.plugin_manager().register(ToyPlugin(), name="toy")
    try:
        main(["train", "toy-gan", "--data", str(root / "tiny.npz"), "--steps", "3", "--batch-size", "8", "--sample-every", "0", "--checkpoint-every", "0",
              "--quiet", "--out", str(out)])
    except SystemExit as exit_info:
        assert exit_info.code in (0, None)
    finally:
        plugins.reset()
    return out


@pytest.fixture(params=sorted(HOSTILE))
def hostile(request, toy_run, tmp_path, toy):
    """A copy of the toy run whose checkpoint is replaced by one hostile file."""
    run = tmp_path / "run"
    shutil.copytree(toy_run, run)
    ckpt = run / "checkpoint.safetensors"
    ckpt.write_bytes(HOSTILE[request.param](ckpt.read_bytes(), tmp_path / "scratch.pt"))
    return request.param, run


def one_line(code, err):
    assert code == 1, err
    assert err.startswith("Error: ") and err.count("\n") == 1 and "Traceback" not in err, err


def test_load_model_raises_a_zoo_error(hostile, capsys):
    name, run = hostile
    if name in SAMPLING_ONLY:
        zoo.load_model(run)  # weights alone are fine for sampling
    else:
        with pytest.raises(ZooError):
            zoo.load_model(run)
    assert CANARY not in capsys.readouterr().out


@pytest.mark.parametrize("command", [["sample", "{run}", "-n", "2", "--out", "{tmp}/s.png"],
                                     ["eval", "{run}", "-n", "10"],
                                     ["train", "--resume", "{run}", "--steps", "6", "--quiet"]],
                         ids=["sample", "eval", "resume"])
def test_commands_answer_with_one_line(hostile, zoo_cli, tmp_path, command):
    name, run = hostile
    before = (run / "config.json").read_text()
    code, out, err = zoo_cli(*(part.format(run=run, tmp=tmp_path) for part in command))
    assert CANARY not in out + err
    if command[0] in ("sample", "eval") and name in SAMPLING_ONLY:
        assert code == 0, err
    else:
        one_line(code, err)
    assert (run / "config.json").read_text() == before, "a failed command changed the run record"


def test_a_directory_and_a_fifo_are_refused(tmp_path):
    (tmp_path / "dir.safetensors").mkdir()
    with pytest.raises(ZooError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "dir.safetensors")
    os.mkfifo(tmp_path / "pipe.safetensors")
    with pytest.raises(ZooError, match="not a regular file"):
        load_checkpoint(tmp_path / "pipe.safetensors")


def test_a_huge_sparse_file_is_refused_from_its_header(tmp_path):
    path = tmp_path / "sparse.safetensors"
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", 200))
        fh.truncate(1 << 30)  # 1 GiB of holes: reading it all would cost 1 GB of memory
    with pytest.raises(ZooError, match="not a readable safetensors checkpoint"):
        load_checkpoint(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=200), claimed=st.integers(min_value=0, max_value=2**64 - 1), as_json=st.booleans(),
       meta=st.dictionaries(st.text(max_size=12), st.text(max_size=20), max_size=6))
def test_fuzzed_headers_only_ever_raise_checkpoint_errors(tmp_path, body, claimed, as_json, meta):
    path = tmp_path / "fuzz.safetensors"
    if as_json:
        text = json.dumps({"__metadata__": {"format": "zoo-checkpoint/1", **meta}}).encode()
        path.write_bytes(struct.pack("<Q", len(text)) + text + body)
    else:
        path.write_bytes(struct.pack("<Q", claimed) + body)
    with pytest.raises(ZooError):
        load_checkpoint(path)
