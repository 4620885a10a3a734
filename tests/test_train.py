"""The trainer and ``zoo train``: the run folder, resuming bit-exactly, callbacks, and bad input."""

import json

import numpy as np
import pytest
import torch

import zoo
from zoo.callbacks import Callback
from zoo.training.default_callbacks import Checkpointing
from zoo.store.checkpoint import load_checkpoint
from zoo.datasets import ImageData
from zoo.training.trainer import TrainConfig, Trainer

FAST = ["--steps", "6", "--batch-size", "16", "--quiet", "--sample-every", "3", "--checkpoint-every", "3"]


def test_train_writes_a_complete_run_folder(toy, zoo_cli, tmp_path):
    out = tmp_path / "run"
    code, stdout, err = zoo_cli("train", toy, "--out", out, *FAST)
    assert code == 0, err
    assert "trained toy-gan for 6 steps" in stdout
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == toy and config["train"]["steps"] == 6 and config["data"]["source"] == "mnist"
    assert config["versions"]["zoo-core"] == zoo.__version__
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["step"] == 6 and {"loss_d", "loss_g", "images_per_s", "time_s"} <= set(records[-1])
    assert 0 < records[0]["time_s"] <= records[-1]["time_s"]
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["step-000003.png", "step-000006.png"]
    assert (out / "losses.png").stat().st_size > 1000
    assert load_checkpoint(out).step == 6


def test_resumed_run_ends_with_identical_weights(toy, zoo_cli, tmp_path):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    assert zoo_cli("train", toy, "--out", straight, *FAST)[0] == 0
    assert zoo_cli("train", toy, "--out", resumed, *FAST[:1], "3", *FAST[2:])[0] == 0
    assert load_checkpoint(resumed).step == 3
    code, _, err = zoo_cli("train", "--resume", resumed, "--steps", "6", "--quiet")
    assert code == 0, err
    a, b = load_checkpoint(straight), load_checkpoint(resumed)
    assert b.step == 6
    weights = [k for k in a.tensors if k.startswith("model.")]
    assert weights and all(torch.equal(a.tensors[k], b.tensors[k]) for k in weights)
    steps = [json.loads(line)["step"] for line in (resumed / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps)), "metrics were duplicated by the resume"


def test_resume_refuses_a_finished_run_and_another_architecture(toy, zoo_cli, tmp_path):
    out = tmp_path / "run"
    zoo_cli("train", toy, "--out", out, *FAST)
    code, _, err = zoo_cli("train", "--resume", out, "--quiet")
    assert code != 0 and "already at step 6 of 6" in err
    code, _, err = zoo_cli("train", "dcgan-other", "--resume", out)
    assert code != 0 and "is a 'toy-gan' run, not 'dcgan-other'" in err


def test_callbacks_see_every_hook_in_order(toy, tmp_path):
    events = []

    class Recorder(Callback):
        def on_train_start(self, trainer):
            events.append("start")

        def on_step_end(self, trainer, step, logs):
            events.append(f"step{step}")
            assert all(isinstance(v, float) for v in logs.values())

        def on_epoch_end(self, trainer, epoch):
            events.append(f"epoch{epoch}")

        def on_checkpoint_saved(self, trainer, path):
            events.append("saved")

        def on_train_end(self, trainer):
            events.append("end")

    data = ImageData(np.zeros((32, 1, 28, 28), np.uint8), None, "zeros")
    model = zoo.create_model(toy)
    trainer = Trainer(model, data, TrainConfig(steps=4, batch_size=16, checkpoint_every=0), tmp_path,
                      callbacks=[Recorder(), Checkpointing()])
    trainer.fit()
    assert events == ["start", "step1", "step2", "epoch1", "step3", "step4", "epoch2", "end", "saved"]


def test_batches_visit_every_image_once_per_epoch():
    from zoo.training.batches import Batches

    images = torch.arange(10, dtype=torch.uint8).reshape(10, 1, 1, 1)
    batches = Batches(images, None, 3, seed=1)
    seen = torch.cat([batches.next().images.flatten() for _ in range(3)])
    assert sorted(seen.tolist()) == sorted(set(seen.tolist())) and len(seen) == 9
    state = batches.state_dict()
    following = batches.next().images
    batches.load_state_dict(state)
    assert torch.equal(batches.next().images, following)


def test_ranks_get_disjoint_shards_that_together_are_the_one_process_batches():
    from zoo.training.batches import Batches

    images = torch.arange(20, dtype=torch.uint8).reshape(20, 1, 1, 1)
    whole = Batches(images, None, 6, seed=3)
    ranks = [Batches(images, None, 2, seed=3, rank=r, world=3) for r in range(3)]
    for _ in range(7):  # over two epoch boundaries
        expected = whole.next().images
        parts = [b.next().images for b in ranks]
        assert torch.equal(torch.cat(parts), expected)
        assert whole.epoch == ranks[0].epoch and whole.state_dict() == ranks[2].state_dict()
    ranks = [Batches(images, None, 2, seed=3, rank=r, world=3) for r in range(3)]
    epoch = torch.cat([torch.cat([b.next().images for b in ranks]) for _ in range(3)]).flatten().tolist()
    assert len(set(epoch)) == 18  # one epoch of 3 steps: no image twice across ranks


def test_streamed_batches_equal_in_memory_ones(tmp_path):
    import numpy as np

    from zoo.training.batches import Batches
    from zoo.datasets.mapped import MappedImages

    pixels = np.random.default_rng(0).integers(0, 256, (50, 8, 8, 3), dtype=np.uint8)  # channels last on disk
    np.save(tmp_path / "data.npy", pixels)
    mapped = MappedImages(tmp_path / "data.npy")
    assert mapped.shape == (50, 3, 8, 8) and mapped.nbytes == pixels.nbytes
    in_memory = Batches(torch.from_numpy(pixels.transpose(0, 3, 1, 2).copy()), None, 8, seed=2)
    streamed = Batches(mapped, None, 8, seed=2)
    for _ in range(200):  # past the page release
        assert torch.equal(in_memory.next().images, streamed.next().images)
    view = mapped.view(np.array([5, 1, 7]))
    assert np.array_equal(view[np.array([2, 0])], pixels[[7, 5]].transpose(0, 3, 1, 2))


def test_nan_loss_stops_naming_step_and_loss_and_keeps_the_last_checkpoint(register_plugin, zoo_cli, tmp_path):
    from toy import ExplodingPlugin

    register_plugin(ExplodingPlugin(), "exploding")
    out = tmp_path / "run"
    code, _, err = zoo_cli("train", "exploding", "--out", out, *FAST)
    assert code == 1
    assert "failed at step 5: loss_d is nan" in err and "the last finite checkpoint (step 3) is kept" in err
    assert f"zoo train --resume {out} --set lr=" in err
    assert json.loads((out / "status.json").read_text())["status"] == "failed"
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert load_checkpoint(out).step == 3


@pytest.mark.parametrize("args, message", [
    (["--data", "no-such-dataset"], "unknown dataset 'no-such-dataset'"),
    (["--data", "/no/such/path.npz"], "unknown dataset '/no/such/path.npz'"),
    (["--steps", "0"], "--steps must be at least 1"),
    (["--batch-size", "100000"], "--batch-size 100000 does not fit"),
    (["--set", "widht=3"], "unknown config key 'widht'.*valid keys: latent_dim \\(int\\)"),
    (["--set", "width=wide"], "bad value 'wide'"),
    (["--steps", "3", "--epochs", "1"], "give one of --steps, --epochs and --minutes, not --steps and --epochs"),
    (["--device", "cuda"], "no CUDA device"),
])
def test_bad_input_is_one_line_and_writes_nothing(toy, zoo_cli, tmp_path, args, message):
    out = tmp_path / "run"
    code, _, err = zoo_cli("train", toy, "--out", out, "--quiet", *args)
    assert code != 0
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    import re

    assert re.search(message, err), err
    if "cuda" not in args:
        assert not out.exists()


def test_existing_out_folder_is_refused_and_left_alone(toy, zoo_cli, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    code, _, err = zoo_cli("train", toy, "--out", out, *FAST)
    assert code != 0 and "already exists; choose another folder" in err
    assert sorted(p.name for p in out.iterdir()) == ["precious.txt"]


def test_folder_data_and_toml_config(toy, zoo_cli, tmp_path, tiny_npz):
    config = tmp_path / "c.toml"
    config.write_text('latent_dim = 6\n[train]\nsteps = 2\nbatch_size = 8\n')
    out = tmp_path / "run"
    code, _, err = zoo_cli("train", toy, "--config", config, "--data", tiny_npz, "--out", out, "--quiet")
    assert code == 0, err
    saved = json.loads((out / "config.json").read_text())
    assert saved["config"]["latent_dim"] == 6 and saved["train"]["steps"] == 2
    assert saved["data"]["train_images"] == 58  # 64 images, 10% held out


def test_bf16_precision_trains(toy, zoo_cli, tmp_path):
    code, _, err = zoo_cli("train", toy, "--out", tmp_path / "run", *FAST, "--precision", "bf16")
    assert code == 0, err


def test_sample_outputs(toy, zoo_cli, tmp_path):
    out = tmp_path / "run"
    zoo_cli("train", toy, "--out", out, *FAST)
    assert zoo_cli("sample", out, "-n", "5", "--out", tmp_path / "s.npz", "--seed", "3")[0] == 0
    with np.load(tmp_path / "s.npz") as npz:
        first = npz["images"]
    assert first.shape == (5, 28, 28) and first.dtype == np.uint8
    zoo_cli("sample", out, "-n", "5", "--out", tmp_path / "again.npz", "--seed", "3")
    with np.load(tmp_path / "again.npz") as npz:
        assert np.array_equal(npz["images"], first)
    assert zoo_cli("sample", out, "-n", "9", "--out", tmp_path / "s.png")[0] == 0
    assert zoo_cli("sample", out, "-n", "9", "--out", tmp_path / "s.safetensors")[0] == 0
    assert zoo_cli("sample", out, "--interpolate", "4", "-n", "8", "--out", tmp_path / "walk.png")[0] == 0
    code, _, err = zoo_cli("sample", out, "--out", tmp_path / "s.gif")
    assert code != 0 and "unsupported file type" in err
    code, _, err = zoo_cli("sample", out, "--label", "3", "--out", tmp_path / "l.png")
    assert code != 0 and "needs a conditional model" in err
    code, _, err = zoo_cli("reconstruct", out, "--out", tmp_path / "r.png")
    assert code != 0 and "cannot reconstruct" in err


def test_off_a_terminal_progress_is_plain_lines_on_stdout(toy, zoo_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_PROGRESS_SECONDS", "0")
    code, out, err = zoo_cli("train", toy, "--out", tmp_path / "run", *[a for a in FAST if a != "--quiet"])
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("toy-gan: training to step 6 on cpu")
    steps = [line for line in lines if line.startswith("step ")]
    assert [line.split()[1] for line in steps] == ["1/6", "2/6", "3/6", "4/6", "5/6", "6/6"]
    assert "loss_d" in steps[0] and "img/s" in steps[0] and "elapsed 0:0" in steps[0] and "eta 0:0" in steps[0]
    assert steps[2].endswith("[grid step-000003.png, checkpoint]")  # the tag on the line of the step that saved,
    assert not [line for line in steps[:2] + steps[3:5] if "[" in line]  # on no other
    assert steps[-1].endswith("[checkpoint]")  # the final one
    assert lines[-3].startswith("trained toy-gan for 6 steps")
    code, out, _ = zoo_cli("train", toy, "--out", tmp_path / "quiet", *FAST)
    assert code == 0 and not [line for line in out.splitlines() if line.startswith("step ")]


def test_zoo_train_redirected_to_a_log_file_writes_progress_lines(tmp_path, tiny_npz):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**{k: v for k, v in os.environ.items() if not k.startswith("ZOO_")}, "ZOO_PROGRESS_SECONDS": "0"}
    with open(tmp_path / "log.txt", "w") as log:
        subprocess.run([str(Path(sys.executable).with_name("zoo")), "train", "dcgan", "--data", str(tiny_npz), "--steps",
                        "3", "--batch-size", "8", "--set", "width=4", "--out", str(tmp_path / "run")],
                       stdout=log, stderr=subprocess.STDOUT, env=env, check=True)
    text = (tmp_path / "log.txt").read_text()
    assert "dcgan: training to step 3" in text and "step 2/3" in text and "trained dcgan for 3 steps" in text


def test_png_grids_are_enlarged_to_a_viewable_size(toy, zoo_cli, tmp_path):
    from PIL import Image

    out = tmp_path / "run"
    assert zoo_cli("train", toy, "--out", out, *FAST)[0] == 0
    assert Image.open(out / "samples" / "step-000006.png").size == (8 * (84 + 2) + 2,) * 2  # 28-pixel tiles x3
    assert zoo_cli("sample", out, "-n", "9", "--out", tmp_path / "auto.png")[0] == 0
    assert Image.open(tmp_path / "auto.png").size == (3 * 86 + 2,) * 2
    assert zoo_cli("sample", out, "-n", "9", "--out", tmp_path / "small.png", "--scale", "1")[0] == 0
    assert Image.open(tmp_path / "small.png").size == (3 * 30 + 2,) * 2


def test_streaming_from_a_memory_mapped_file_trains_exactly_as_holding_the_images(toy, zoo_cli, tmp_path):
    np.save(tmp_path / "data.npy", np.random.default_rng(0).integers(0, 256, (64, 1, 28, 28), dtype=np.uint8))
    for access in ("memory", "stream"):
        code, _, err = zoo_cli("train", toy, "--data", tmp_path / "data.npy", "--data-access", access,
                               "--out", tmp_path / access, *FAST)
        assert code == 0, err
    held, streamed = load_checkpoint(tmp_path / "memory"), load_checkpoint(tmp_path / "stream")
    assert all(torch.equal(held.tensors[k], streamed.tensors[k]) for k in held.tensors)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("access", ["memory", "stream"])
def test_cuda_training_with_images_on_the_device_or_streamed(toy, zoo_cli, tmp_path, access):
    np.save(tmp_path / "data.npy", np.random.default_rng(0).integers(0, 256, (64, 1, 28, 28), dtype=np.uint8))
    code, _, err = zoo_cli("train", toy, "--data", tmp_path / "data.npy", "--device", "cuda", "--data-access", access,
                           "--precision", "bf16", "--out", tmp_path / "run", *FAST)
    assert code == 0, err
    assert load_checkpoint(tmp_path / "run").step == 6


def test_memory_format_follows_the_architecture_unless_the_user_says(toy, tmp_path):
    data = ImageData(np.random.default_rng(0).integers(0, 256, (32, 1, 28, 28), dtype=np.uint8), None, "random")
    seen = []

    class Layout(Callback):
        def on_train_start(self, trainer):
            seen.append((trainer.channels_last, trainer.batches.next().images.is_contiguous()))

    for choice in ("auto", "channels_last"):
        model = zoo.create_model(toy)
        config = TrainConfig(steps=1, batch_size=8, device="cpu", memory_format=choice, checkpoint_every=0)
        Trainer(model, data, config, tmp_path / choice, callbacks=[Layout()]).fit()
    # a plugin that does not declare channels_last (it may view() its activations) keeps contiguous tensors
    assert seen[0] == (False, True) and seen[1][0] is True
    assert zoo.get_model("dcgan").load().memory_format == "channels_last"


def _conv_layouts(model):
    """Whether each convolution's weight is channels_last, of those where the two layouts differ."""
    return {conv.weight.is_contiguous(memory_format=torch.channels_last) and not conv.weight.is_contiguous()
            for conv in model.modules()
            if isinstance(conv, torch.nn.Conv2d) and conv.in_channels > 1 and conv.weight[0, 0].numel() > 1}


def test_a_model_is_built_loaded_and_trained_in_one_layout(tmp_path):
    # built channels_last as it trains, so the trained model and its checkpoint loaded draw identical images
    assert _conv_layouts(zoo.create_model("dcgan")) == {True}
    data = ImageData(np.random.default_rng(0).integers(0, 256, (32, 1, 28, 28), dtype=np.uint8), None, "random")
    trainers = {}
    for choice in ("auto", "contiguous"):
        config = TrainConfig(steps=1, batch_size=8, device="cpu", memory_format=choice, checkpoint_every=0)
        trainers[choice] = Trainer(zoo.create_model("dcgan"), data, config, tmp_path / choice)
        trainers[choice].fit()
    assert _conv_layouts(trainers["contiguous"].model) == {False}
    assert _conv_layouts(trainers["auto"].model) == {True}
    loaded = zoo.load_model(tmp_path / "auto")
    assert _conv_layouts(loaded) == {True}
    images = loaded.sample(4, seed=0)
    assert images.is_contiguous()  # what callers write to disk or hand to numpy
    assert torch.equal(images, trainers["auto"].model.sample(4, seed=0))
