"""What one bench is: the models, the data, the budget and the evaluation setting every run shares. Stored in
``bench.json`` so that ``zoo bench --resume DIR`` continues with exactly the same settings. No torch here."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from zoo.errors import ZooError

FORMAT = "zoo-bench/1"


@dataclass(frozen=True)
class BenchSettings:
    models: tuple[str, ...]
    data: str
    minutes: float = 0.0  # a wall-clock budget for each run's training, or
    steps: int = 0  # the same number of steps for every model, or
    defaults: bool = False  # each model's own default training (what zoo train NAME does)
    seeds: tuple[int, ...] = (0,)
    image_size: int = 0
    n: int = 2000  # samples each run is scored with
    features: str = "classifier"
    eval_seed: int = 0
    device: str = "auto"
    train_options: dict = field(default_factory=dict)  # any other TrainConfig fields, the same for every run

    def __post_init__(self):
        if [self.minutes > 0, self.steps > 0, bool(self.defaults)].count(True) != 1:
            raise ZooError("give the budget as --minutes M, --steps N or --defaults (one of them)")
        if not self.models:
            raise ZooError(f"no installed model takes the images of {self.data}; name some (zoo list)")
        if not self.seeds:
            raise ZooError("give at least one seed")

    def budget(self) -> dict:
        """The training option that sets every run's length (none: each model's default steps)."""
        if self.defaults:
            return {}
        return {"minutes": self.minutes} if self.minutes > 0 else {"steps": self.steps}

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "models": list(self.models), "seeds": list(self.seeds)}

    @classmethod
    def from_dict(cls, stored: dict) -> "BenchSettings":
        try:
            known = {f.name for f in dataclasses.fields(cls)}
            return cls(**{k: tuple(v) if k in ("models", "seeds") else v for k, v in stored.items() if k in known})
        except (TypeError, ValueError) as exc:
            raise ZooError(f"bench.json: its settings are not a zoo bench's ({exc})") from None


def budget_text(settings: dict) -> str:
    """The budget of stored settings in words: ``2 minutes each``, ``1,000 steps each``, ``each model's defaults``."""
    if settings.get("defaults"):
        return "each model's defaults"
    if settings.get("minutes"):
        return f"{settings['minutes']:g} minutes each"
    return f"{settings['steps']:,} steps each"


def run_name(model: str, seed: int) -> str:
    """The run folder of ``model`` trained with ``seed``, under the bench's folder."""
    return f"{model}-seed{seed}"
