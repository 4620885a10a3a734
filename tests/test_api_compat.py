"""Plugins written against the first wave's API (API 1.0, no ZOO_API declared) keep working unchanged: the
README's GAN example as it was printed, a non-GAN Architecture and a callback plugin."""

import importlib
import sys
import textwrap

import pytest
import torch

from zoo.registry import plugin_host as plugins
from zoo.store.checkpoint import load_checkpoint

OLD_README_GAN = {
    "zoo_mygan/__init__.py": '''
        # zoo_mygan/__init__.py: keep this module light (no torch), zoo imports it on every start
        from dataclasses import dataclass
        import zoo
        from zoo.config import option
        from zoo.gan_config import GANConfig

        @dataclass
        class MyGANConfig(GANConfig):
            width: int = option(48, "channels of the first conv layer")
            loss: str = option("hinge", "adversarial loss")

        @zoo.hookimpl
        def register_architectures(register):
            register("mygan", "zoo_mygan.model:MyGAN", config=MyGANConfig,
                     summary="My GAN", data_shapes=[(1, 28, 28), (3, 32, 32)],
                     train_defaults={"steps": 3000, "batch_size": 64})
    ''',
    "zoo_mygan/model.py": '''
        # zoo_mygan/model.py: imported only when the model is built
        from zoo.gan import GAN
        from zoo.networks import ConvDiscriminator, ConvGenerator

        class MyGAN(GAN):
            def build_generator(self):
                return ConvGenerator(self.config.latent_dim, self.data_shape, self.config.width)

            def build_discriminator(self):
                return ConvDiscriminator(self.data_shape, self.config.width, norm="layer")
    ''',
}

OLD_ARCHITECTURE_AND_CALLBACK = {
    "zoo_oldies/__init__.py": '''
        from dataclasses import dataclass

        import zoo


        @dataclass
        class LinearConfig:
            latent_dim: int = 4
            lr: float = 1e-3


        class StepCounter(zoo.Callback):
            def on_train_end(self, trainer):
                (trainer.out_dir / "counted.txt").write_text(str(trainer.step))


        @zoo.hookimpl
        def register_architectures(register):
            register("linear-decoder", "zoo_oldies.model:LinearDecoder", config=LinearConfig,
                     summary="a linear map from noise to images, fitted to the batch mean")


        @zoo.hookimpl
        def register_callbacks(register):
            register("step-counter", StepCounter, summary="write the last step to counted.txt")
    ''',
    "zoo_oldies/model.py": '''
        import math

        import torch
        from torch import nn

        from zoo.architecture import Architecture, Batch


        class LinearDecoder(Architecture):
            def __init__(self, config, data_shape=(1, 28, 28), num_classes=None):
                super().__init__(config, data_shape, num_classes)
                self.decoder = nn.Linear(config.latent_dim, math.prod(data_shape))

            def configure_optimizers(self):
                return {"decoder": torch.optim.Adam(self.decoder.parameters(), lr=self.config.lr)}

            def training_step(self, batch: Batch, step):
                z = torch.randn(len(batch.images), self.config.latent_dim, device=batch.images.device)
                loss = ((self.generate(z) - batch.images.mean(0)) ** 2).mean()
                self.optimizers["decoder"].zero_grad()
                loss.backward()
                self.optimizers["decoder"].step()
                return {"loss": loss}

            def sample_latent(self, n, generator=None):
                return torch.randn(n, self.config.latent_dim, generator=generator)

            def generate(self, z, labels=None):
                return torch.tanh(self.decoder(z)).view(len(z), *self.data_shape)
    ''',
}


def install(site, dist, package, files):
    for path, body in files.items():
        (site / path).parent.mkdir(parents=True, exist_ok=True)
        (site / path).write_text(textwrap.dedent(body))
    info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[zoo.plugins]\n{package} = {package}\n")
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        sys.modules.pop(name)
    importlib.invalidate_caches()
    plugins.reset()


@pytest.mark.parametrize("model, files, extra", [
    ("mygan", OLD_README_GAN, ["--set", "width=8"]),
    ("linear-decoder", OLD_ARCHITECTURE_AND_CALLBACK, ["--callback", "step-counter"]),
], ids=["readme-gan-example", "architecture-and-callback"])
def test_a_first_wave_plugin_trains_samples_and_resumes(site, zoo_cli, tmp_path, tiny_npz, model, files, extra):
    package = next(iter(files)).split("/")[0]
    install(site, f"zoo-{package}", package, files)
    out = tmp_path / "run"
    common = ["--batch-size", "8", "--checkpoint-every", "2", "--sample-every", "2", "--quiet"]
    code, _, err = zoo_cli("train", model, "--data", tiny_npz, "--steps", "2", "--out", out, *extra, *common)
    assert code == 0 and "warning" not in err, err
    code, _, err = zoo_cli("train", "--resume", out, "--steps", "4", "--quiet")
    assert code == 0, err
    assert load_checkpoint(out).step == 4
    assert zoo_cli("sample", out, "-n", "4", "--out", tmp_path / "s.png")[0] == 0
    if model == "linear-decoder":
        assert (out / "counted.txt").read_text() == "4", "the callback was not restored on resume"


OLD_GUIDE_CSV_LOG = {
    "zoo_oldcsv/__init__.py": '''
        # the guide's callback example up to API 1.3: state kept in its own file, trimmed after a resume
        import csv

        import zoo

        ZOO_API = "1.1"


        class CSVLog(zoo.Callback):
            def __init__(self, filename: str = "losses.csv", every: int = 10):
                self.filename, self.every = filename, every

            def on_step_end(self, trainer, step, logs):
                if step % self.every:
                    return
                path = trainer.out_dir / self.filename
                rows = list(csv.reader(path.read_text().splitlines()))[1:] if path.exists() else []
                rows = [row for row in rows if int(row[0]) < step]  # after a resume: the steps are trained again
                with path.open("w", newline="") as fh:
                    writer = csv.writer(fh)
                    writer.writerow(["step", *sorted(logs)])
                    writer.writerows(rows + [[step, *(f"{logs[k]:.6g}" for k in sorted(logs))]])


        @zoo.hookimpl
        def register_callbacks(register):
            register("old-csv-log", CSVLog, summary="write the step figures to a CSV file")
    ''',
}


def test_the_guides_callback_example_of_api_1_3_still_passes_its_check(site, tmp_path):
    from zoo.testing import check_callback

    install(site, "zoo-oldcsv", "zoo_oldcsv", OLD_GUIDE_CSV_LOG)
    check_callback("old-csv-log", tmp_path, every=1)
    rows = (tmp_path / "resumed" / "losses.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in rows] == ["step", "1", "2", "3", "4"]


OLD_GUIDE_TINYFLOW = {
    "zoo_oldflow/__init__.py": '''
        # the guide's iterative-sampler example of API 1.5: generate(z, labels) reads self.sampling
        from dataclasses import dataclass

        import zoo
        from zoo.config import option
        from zoo.denoising import DenoiserConfig, GuidedSampling

        ZOO_API = "1.5"


        @dataclass
        class TinyFlowConfig(DenoiserConfig):
            width: int = option(8)


        @dataclass
        class TinyFlowSampling(GuidedSampling):
            steps: int = option(8, "Euler steps from noise to image", minimum=1, maximum=1000)


        @zoo.hookimpl
        def register_architectures(register):
            register("oldflow", "zoo_oldflow.model:TinyFlow", config=TinyFlowConfig, sampling=TinyFlowSampling,
                     summary="A rectified flow with an Euler sampler", train_defaults={"steps": 2000})
    ''',
    "zoo_oldflow/model.py": '''
        import torch

        from zoo.denoising.model import Denoiser


        class TinyFlow(Denoiser):
            def loss(self, images, labels):
                noise, t = torch.randn_like(images), torch.rand(len(images), device=images.device)
                noisy = torch.lerp(noise, images, t[:, None, None, None])
                return (self.network(noisy, t, labels) - (images - noise)).square().mean()

            def generate(self, z, labels=None):
                x, steps = z, self.sampling.steps
                for i in self.progress(range(steps)):
                    x = x + self.predict(x, i / steps, labels) / steps
                return x
    ''',
}


def test_an_api_1_5_sampler_reading_self_sampling_still_samples_with_the_settings_given(site, zoo_cli, tmp_path, tiny_npz):
    import zoo

    install(site, "zoo-oldflow", "zoo_oldflow", OLD_GUIDE_TINYFLOW)
    out = tmp_path / "run"
    code, _, err = zoo_cli("train", "oldflow", "--data", tiny_npz, "--steps", "2", "--batch-size", "8", "--out", out,
                           "--quiet")
    assert code == 0, err
    for steps in ("1", "3"):
        code, _, err = zoo_cli("sample", out, "-n", "2", "--out", tmp_path / f"s{steps}.npz", "--steps", steps)
        assert code == 0 and "Traceback" not in err, err
    model = zoo.create_model("oldflow")
    heard = []
    from zoo import moved

    moved._warned.discard("Architecture.sampling")  # the CLI runs above, in this process, heard it already
    with pytest.warns(DeprecationWarning, match="generate\\(z, labels, settings\\)"):
        model.sample(2, seed=0, sampling={"steps": 3, "ema": False}, progress=lambda d, t: heard.append(d))
    assert heard == [1, 2, 3] and model.default_sampling.steps == 8
    with torch.no_grad():  # the live weights apart from their EMA, so that the ema option shows
        for weight in model.network.parameters():
            weight.add_(0.1)
    a = model.sample(2, seed=0, sampling={"steps": 3})
    assert not torch.equal(a, model.sample(2, seed=0, sampling={"steps": 3, "ema": False}))
