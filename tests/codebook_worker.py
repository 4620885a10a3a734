"""One rank of a codebook-like toy model's run (started by tests/test_collectives.py with RANK, WORLD_SIZE, ...).

``python codebook_worker.py OUT STEPS BATCH [alone]``: trains ``toy-codebook`` on random images and saves this
rank's state (weights and buffers) to ``OUT/rank-R.safetensors``. The model keeps a codebook as moving averages
of its encoder's outputs (buffers) and restarts unused codes from encoder outputs at the start of a step, using
them in that step's loss: ``all_reduce_mean`` averages the statistics, ``broadcast_from_rank_zero`` makes rank
0's restart everyone's. ``alone`` leaves both collectives out (what a plugin without them does)."""

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file

sys.path.insert(0, str(Path(__file__).parent))
torch.set_num_threads(1)

import zoo  # noqa: E402
from zoo.config import option  # noqa: E402
from zoo.datasets import ImageData  # noqa: E402
from zoo.registry.plugin_host import plugin_manager  # noqa: E402
from zoo.training import distributed  # noqa: E402
from zoo.training.options import TrainConfig  # noqa: E402
from zoo.training.trainer import Trainer  # noqa: E402

CODES, DIM, DECAY, DEAD = 6, 4, 0.5, 0.3
COLLECTIVES = "alone" not in sys.argv


@dataclass
class CodebookConfig:
    lr: float = option(1e-2, "learning rate")


class Codebook(zoo.Architecture):
    """A linear encoder and decoder around a codebook of moving averages (VQ-VAE style, van den Oord et al. 2017)."""

    def __init__(self, config, data_shape=(1, 8, 8), num_classes=None):
        super().__init__(config, data_shape, num_classes)
        pixels = int(np.prod(data_shape))
        self.encoder, self.decoder = torch.nn.Linear(pixels, DIM), torch.nn.Linear(DIM, pixels)
        self.register_buffer("codes", torch.randn(CODES, DIM))
        self.register_buffer("usage", torch.ones(CODES))
        self.restarts = 0

    def configure_optimizers(self):
        return {"model": torch.optim.Adam(self.parameters(), self.config.lr)}

    def training_step(self, batch, step):
        x = batch.images.flatten(1)
        z = self.encoder(x)
        with torch.no_grad():  # restart codes nobody used lately from this step's encoder outputs, drawn at random
            pick = torch.randint(0, 8, (CODES,), generator=torch.Generator().manual_seed(step))
            fresh = z[pick].detach().clone()
            if COLLECTIVES:
                self.broadcast_from_rank_zero(fresh)
            dead = self.usage < DEAD
            self.codes[dead], self.usage[dead] = fresh[dead], 1.0
            self.restarts += int(dead.sum())
        nearest = torch.cdist(z.detach(), self.codes).argmin(1)
        quantised = self.codes[nearest]
        loss = (z - quantised).square().mean() + (self.decoder(z + (quantised - z).detach()) - x).square().mean()
        self.optimize("model", loss)
        with torch.no_grad():  # the moving averages, from every rank's batch
            chosen = F.one_hot(nearest, CODES).float()
            share, sums = chosen.sum(0) / len(z), chosen.T @ z.detach() / len(z)
            if COLLECTIVES:
                self.all_reduce_mean(share)
                self.all_reduce_mean(sums)
            used = share > 0
            self.codes[used] = torch.lerp(self.codes[used], sums[used] / share[used, None], 1 - DECAY)
            self.usage.mul_(DECAY).add_(share * CODES, alpha=1 - DECAY)
        return {"loss": loss.detach()}

    def sample_latent(self, n, generator=None):
        return torch.randint(0, CODES, (n,), generator=generator)

    def generate(self, z, labels=None, settings=None):
        return self.decoder(self.codes[z]).view(len(z), *self.data_shape)


class CodebookPlugin:
    @zoo.hookimpl
    def register_architectures(self, register):
        register("toy-codebook", Codebook, config=CodebookConfig, summary="test model", data_shapes=[(1, 8, 8)])


def main(out, steps, batch):
    plugin_manager().register(CodebookPlugin(), name="codebook")
    Path(out).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    data = ImageData(rng.integers(0, 256, (64, 1, 8, 8), dtype=np.uint8), None, "random")
    torch.manual_seed(0)
    model = zoo.create_model("toy-codebook", data_shape=(1, 8, 8))
    config = TrainConfig(steps=int(steps), batch_size=int(batch), device="cpu", sample_every=0, checkpoint_every=0)
    trainer = Trainer(model, data, config, Path(out) / "run", callbacks=[])
    try:
        trainer.fit()
    finally:
        distributed.leave()
    save_file(trainer.model.state_dict(), str(Path(out) / f"rank-{trainer.world.rank}.safetensors"))
    print(f"restarts {trainer.model.restarts}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
