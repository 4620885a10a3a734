"""Precision and batch size are the core's: fp16 with loss scaling, --accumulate, --clip-grad-norm for every model
that steps through Architecture.optimize; a model that steps by itself keeps fp32 and bf16 and is refused the rest
in one line; bf16 is flagged where the CPU emulates it, and --precision auto says what it picked and why."""

import json
import math
from dataclasses import dataclass

import pytest
import torch
from runs import same_weights

import zoo
from zoo.store.checkpoint import load_checkpoint
from zoo.training import precision

SMALL = dict(batch_size=8, sample_every=0, checkpoint_every=2, log_every=1)


@pytest.mark.parametrize("name", ["autoencoder", "vae", "dcgan", "wgan-gp", "cgan"])
def test_every_model_trains_in_fp16_and_resumes_bit_exactly(name, tmp_path, tiny_npz):
    options = dict(data=str(tiny_npz), precision="fp16", **SMALL)
    zoo.train(name, out=tmp_path / "straight", steps=4, **options)
    zoo.train(name, out=tmp_path / "resumed", steps=2, **options)
    zoo.train(resume=tmp_path / "resumed", steps=4)
    assert same_weights(tmp_path / "straight", tmp_path / "resumed")
    scaler = load_checkpoint(tmp_path / "resumed").json("trainer")["optimizer_steps"]["scaler"]
    assert scaler["scale"] > 0
    record = json.loads((tmp_path / "resumed" / "config.json").read_text())
    assert record["precision"]["used"] == "fp16" and record["train"]["precision"] == "fp16"


@dataclass
class LinearConfig:
    latent_dim: int = 4
    lr: float = 0.05


class LinearAutoencoder(zoo.Architecture):
    """No batch norm, no randomness: a batch of 64 and 4 x 16 accumulated must give the same step."""

    def __init__(self, config, data_shape=(1, 28, 28), num_classes=None):
        super().__init__(config, data_shape, num_classes)
        pixels = math.prod(data_shape)
        self.encoder = torch.nn.Linear(pixels, config.latent_dim)
        self.decoder = torch.nn.Linear(config.latent_dim, pixels)

    def configure_optimizers(self):
        return {"ae": torch.optim.SGD(self.parameters(), lr=self.config.lr)}

    def training_step(self, batch, step):
        loss = ((self.decoder(self.encoder(batch.images.flatten(1))) - batch.images.flatten(1)) ** 2).mean()
        self.optimize("ae", loss)
        return {"loss": loss}

    def sample_latent(self, n, generator=None):
        return torch.randn(n, self.config.latent_dim, generator=generator)

    def generate(self, z, labels=None):
        return torch.tanh(self.decoder(z)).view(len(z), *self.data_shape)


class SelfStepping(LinearAutoencoder):
    """A model written against API 1.3: it calls backward() and step() itself."""

    def training_step(self, batch, step):
        loss = ((self.decoder(self.encoder(batch.images.flatten(1))) - batch.images.flatten(1)) ** 2).mean()
        self.optimizers["ae"].zero_grad()
        loss.backward()
        self.optimizers["ae"].step()
        return {"loss": loss}


class Plugin:
    @zoo.hookimpl
    def register_architectures(self, register):
        register("linear-ae", LinearAutoencoder, config=LinearConfig, summary="a linear autoencoder")
        register("self-stepping", SelfStepping, config=LinearConfig, summary="steps its optimiser itself")


@pytest.fixture
def linear(register_plugin):
    register_plugin(Plugin(), "linear")


def weights(run):
    return {k: v for k, v in load_checkpoint(run).tensors.items() if k.startswith("model.")}


def test_a_batch_of_64_equals_4_accumulated_micro_batches_of_16(linear, tmp_path, tiny_npz):
    common = dict(data=str(tiny_npz), steps=2, sample_every=0, checkpoint_every=0, log_every=1)
    whole = zoo.train("linear-ae", out=tmp_path / "whole", batch_size=48, **common)
    parts = zoo.train("linear-ae", out=tmp_path / "parts", batch_size=12, accumulate=4, **common)
    for key, value in weights(tmp_path / "whole").items():
        torch.testing.assert_close(weights(tmp_path / "parts")[key], value, rtol=1e-5, atol=1e-6)
    assert whole.history[-1]["loss"] == pytest.approx(parts.history[-1]["loss"], rel=1e-5)  # the mean of the four
    assert parts.batches.state_dict() == whole.batches.state_dict()  # the same images were read


def test_gradients_are_clipped_to_the_norm_given(linear, tmp_path, tiny_npz):
    torch.manual_seed(0)  # the initial weights of the run below: seed 0
    before = {k: v.clone() for k, v in zoo.create_model("linear-ae").state_dict().items()}
    zoo.train("linear-ae", out=tmp_path / "run", data=str(tiny_npz), steps=1, batch_size=8, sample_every=0,
              clip_grad_norm=0.01, config={"lr": 1.0})
    after = weights(tmp_path / "run")
    moved = math.sqrt(sum(float(((after[f"model.{k}"] - v) ** 2).sum()) for k, v in before.items()))
    assert 0 < moved <= 0.01 + 1e-6  # SGD with rate 1 moves the weights by the clipped gradient


def test_accumulate_and_clipping_are_recorded_and_kept_on_resume(linear, zoo_cli, tmp_path, tiny_npz):
    out = tmp_path / "run"
    flags = ["--batch-size", "8", "--sample-every", "0", "--checkpoint-every", "2", "--quiet"]
    assert zoo_cli("train", "linear-ae", "--data", tiny_npz, "--steps", "2", "--out", out, "--accumulate", "2",
                   "--clip-grad-norm", "0.5", *flags)[0] == 0
    assert zoo_cli("train", "--resume", out, "--steps", "4", "--quiet")[0] == 0
    train = json.loads((out / "config.json").read_text())["train"]
    assert (train["accumulate"], train["clip_grad_norm"]) == (2, 0.5)
    code, _, err = zoo_cli("train", "--resume", out, "--steps", "6", "--accumulate", "4", "--quiet")
    assert code != 0 and "--resume keeps the run's --accumulate" in err


def test_a_model_that_steps_by_itself_keeps_fp32_and_bf16_and_is_refused_the_rest(linear, zoo_cli, tmp_path, tiny_npz):
    flags = ["--data", tiny_npz, "--steps", "2", "--batch-size", "8", "--sample-every", "0", "--quiet"]
    for asked in ("fp32", "bf16"):
        code, _, err = zoo_cli("train", "self-stepping", "--precision", asked, "--out", tmp_path / asked, *flags)
        assert code == 0, err
    for extra, what in ((["--precision", "fp16"], "fp16"), (["--accumulate", "2"], "--accumulate"),
                        (["--clip-grad-norm", "1"], "--clip-grad-norm")):
        code, _, err = zoo_cli("train", "self-stepping", *extra, "--out", tmp_path / what, *flags)
        assert code == 1 and "Traceback" not in err
        assert f"({what} needs it to call self.optimize('ae', loss)" in err.strip().splitlines()[-1], err


def test_bf16_on_a_cpu_without_bf16_instructions_warns_and_auto_picks_fp32(linear, zoo_cli, tmp_path, tiny_npz,
                                                                          monkeypatch):
    flags = ["--data", tiny_npz, "--steps", "1", "--batch-size", "8", "--sample-every", "0", "--quiet"]
    monkeypatch.setattr(precision, "cpu_flags", lambda: {"avx2", "fma"})
    code, _, err = zoo_cli("train", "linear-ae", "--precision", "bf16", "--device", "cpu", "--out", tmp_path / "a", *flags)
    assert code == 0 and "--precision bf16 is emulated here" in err
    code, _, err = zoo_cli("train", "linear-ae", "--precision", "auto", "--device", "cpu", "--out", tmp_path / "b", *flags)
    record = json.loads((tmp_path / "b" / "config.json").read_text())
    assert code == 0 and "emulated" not in err and record["precision"]["used"] == "fp32"
    assert "no native bf16" in record["precision"]["why"]

    monkeypatch.setattr(precision, "cpu_flags", lambda: {"avx512f", "avx512_bf16"})
    code, _, err = zoo_cli("train", "linear-ae", "--precision", "auto", "--device", "cpu", "--out", tmp_path / "c", *flags)
    assert code == 0 and json.loads((tmp_path / "c" / "config.json").read_text())["precision"]["used"] == "bf16"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("asked", ["fp16", "bf16", "auto"])
def test_cuda_training_in_each_precision_resumes_bit_exactly(asked, tmp_path, tiny_npz):
    options = dict(data=str(tiny_npz), precision=asked, device="cuda", **SMALL)
    zoo.train("dcgan", out=tmp_path / "straight", steps=4, **options)
    zoo.train("dcgan", out=tmp_path / "resumed", steps=2, **options)
    zoo.train(resume=tmp_path / "resumed", steps=4)
    assert same_weights(tmp_path / "straight", tmp_path / "resumed")


def test_fp16_on_a_cpu_warns_that_it_is_slow(linear, zoo_cli, tmp_path, tiny_npz):
    code, _, err = zoo_cli("train", "linear-ae", "--precision", "fp16", "--device", "cpu", "--data", tiny_npz,
                           "--steps", "1", "--batch-size", "8", "--sample-every", "0", "--out", tmp_path / "run", "--quiet")
    assert code == 0 and "--precision fp16 on a CPU is emulated" in err


def test_an_epoch_counts_every_image_a_step_sees():
    """With --accumulate N and several processes a step sees batch x N x processes images: an epoch is fewer steps."""
    from zoo.training.options import train_config

    assert train_config({"epochs": 2, "batch_size": 8}, 64).steps == 16
    assert train_config({"epochs": 2, "batch_size": 8, "accumulate": 2}, 64).steps == 8
    assert train_config({"epochs": 2, "batch_size": 8, "accumulate": 2}, 64, processes=2).steps == 4


class TwiceOrNot(LinearAutoencoder):
    """Steps its optimiser twice on even steps and not at all on odd ones."""

    def training_step(self, batch, step):
        loss = ((self.decoder(self.encoder(batch.images.flatten(1))) - batch.images.flatten(1)) ** 2).mean()
        if step % 2 == 0:
            self.optimize("ae", loss)
            self.optimize("ae", ((self.decoder(self.encoder(batch.images.flatten(1))) - batch.images.flatten(1)) ** 2).mean())
        return {"loss": loss}


def test_fp16_takes_steps_without_an_optimiser_step_and_two_steps_of_one_optimiser(register_plugin, tmp_path, tiny_npz):
    class Plugin:
        @zoo.hookimpl
        def register_architectures(self, register):
            register("twice-or-not", TwiceOrNot, config=LinearConfig, summary="irregular steps")

    register_plugin(Plugin(), "twice")
    options = dict(data=str(tiny_npz), precision="fp16", **SMALL)
    zoo.train("twice-or-not", out=tmp_path / "straight", steps=4, **options)
    zoo.train("twice-or-not", out=tmp_path / "resumed", steps=2, **options)
    zoo.train(resume=tmp_path / "resumed", steps=4)
    assert same_weights(tmp_path / "straight", tmp_path / "resumed")


def test_the_trainer_hands_its_steps_to_the_model_and_a_model_alone_has_a_plain_one_of_its_own(linear, tmp_path, tiny_npz):
    from zoo.optimization.steps import OptimizerSteps

    alone, other = zoo.create_model("linear-ae"), LinearAutoencoder(LinearConfig())
    assert alone._steps is not other._steps  # no process-wide object shared by every model
    assert alone._steps.precision.used == "fp32" and alone._steps.needs_optimize == ""
    assert other.name == "linear-ae"  # built with its own constructor: the registry still names it
    trainer = zoo.train("linear-ae", out=tmp_path / "run", data=str(tiny_npz), steps=1, precision="fp16", accumulate=2,
                        **SMALL)
    assert isinstance(trainer.optimizer_steps, OptimizerSteps) and trainer.model._steps is trainer.optimizer_steps
    assert trainer.optimizer_steps.precision.scales_loss and trainer.optimizer_steps.needs_optimize == "fp16 and --accumulate"
    state = trainer.training_state()  # what a checkpoint keeps of the trainer: handed over, not reached into
    assert state["optimizer_steps"]["scaler"]["scale"] > 0 and state["total_steps"] == 1
    assert load_checkpoint(tmp_path / "run").json("trainer")["optimizer_steps"] == state["optimizer_steps"]


def test_the_report_gives_no_reason_for_a_precision_zoo_did_not_choose(linear, zoo_cli, tmp_path, tiny_npz):
    """Before: "precision fp32 (asked for)" on the page of a run given no --precision."""
    flags = ["--data", tiny_npz, "--steps", "1", "--batch-size", "8", "--sample-every", "0", "--quiet"]
    code, _, err = zoo_cli("train", "linear-ae", "--device", "cpu", "--out", tmp_path / "run", *flags)
    assert code == 0, err
    assert json.loads((tmp_path / "run" / "config.json").read_text())["precision"] == {"used": "fp32", "why": ""}
    page = (tmp_path / "run" / "report.html").read_text()
    assert "precision fp32 &middot;" in page and "asked for" not in page
