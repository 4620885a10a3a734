"""The config every denoiser shares, and the sampling options of a guided iterative sampler. No torch here."""

from __future__ import annotations

from dataclasses import dataclass

from zoo.config import option


@dataclass
class DenoiserConfig:
    width: int = option(32, "channels of the U-Net's first resolution", minimum=4, maximum=1024)
    multipliers: str = option("1,2", "width multiple of each U-Net resolution, comma-separated; each after the "
                              "first halves the side")
    blocks: int = option(1, "residual blocks per U-Net resolution", minimum=1, maximum=8)
    attention: bool = option(True, "self-attention at the U-Net's lowest resolution")
    fold: int = option(2, "fold each FxF pixel block into channels before the U-Net (1: off): F^2 times cheaper "
                       "layers, at little cost on small images", choices=(1, 2, 4))
    dropout: float = option(0.0, "dropout in the U-Net's residual blocks", minimum=0.0, maximum=0.9)
    lr: float = option(1e-3, "learning rate (Adam)", minimum=0.0)
    ema_decay: float = option(0.999, "decay of the EMA of the network's weights that sampling uses (0: off)",
                              minimum=0.0, maximum=0.99999)
    conditional: bool = option(False, "class-conditional: learn p(image | label) from a labelled dataset; "
                               "sample with --label and --guidance")
    label_dropout: float = option(0.1, "share of training images whose label is hidden (conditional only), so one "
                                  "network also learns the unlabelled model that guidance needs",
                                  minimum=0.0, maximum=1.0)

    def widths(self) -> tuple[int, ...]:
        try:
            multipliers = tuple(int(m) for m in self.multipliers.split(","))
        except ValueError:
            multipliers = ()
        if not multipliers or min(multipliers) < 1 or len(multipliers) > 5:
            from zoo.errors import ConfigError

            raise ConfigError(f"multipliers must be 1 to 5 whole numbers >= 1, comma-separated, got {self.multipliers!r}")
        return multipliers


@dataclass
class GuidedSampling:
    """Sampling options every denoiser takes; a plugin subclasses it to add ``steps`` and ``sampler``."""

    guidance: float = option(1.5, "classifier-free guidance scale for a conditional model: 1 is the plain "
                             "labelled model, higher follows the label more closely at some cost to variety; 1.5 "
                             "draws every label as reliably as real images of it at little cost in FID (unconditional "
                             "models ignore it)", minimum=0.0, maximum=20.0)
    ema: bool = option(True, "sample with the EMA of the weights (false: the live weights)")
