"""The names of what a run logs: the keys of each ``metrics.jsonl`` record, which are also the keys of the
entries of ``trainer.history``. Import them rather than spelling them (``from zoo.logged import heldout``).

Every record has ``step`` and ``epoch`` (``trainer.record`` adds them). Besides, a record holds one of:
- the model's step figures (what ``training_step`` returns, under its own names, averaged over ``log_every``
  steps and over processes) with ``images_per_s`` and ``time_s`` (and ``overflow_steps`` under fp16);
- held-out figures: each name ``validation_logs`` returns, as ``heldout/<name>``;
- evaluation figures (with ``--eval-every``): each number of ``zoo eval``'s model figures, as ``eval/<name>``;
- whatever a plugin's callback records itself with ``trainer.record``.
"""

STEP = "step"
EPOCH = "epoch"
IMAGES_PER_SECOND = "images_per_s"
"""Training speed over all processes, an exponential average of recent steps (``trainer.images_per_second``)."""
TIME_SECONDS = "time_s"
"""Seconds trained so far, earlier sessions of a resumed run included (``trainer.elapsed``)."""
OVERFLOW_STEPS = "overflow_steps"
"""Under fp16: the steps so far whose gradients overflowed, skipped by the loss scaler (a few are normal)."""
BOOKKEEPING = (STEP, EPOCH, IMAGES_PER_SECOND, TIME_SECONDS, OVERFLOW_STEPS)
"""The keys that are not figures of the model."""

HELDOUT_PREFIX = "heldout/"
EVAL_PREFIX = "eval/"


def heldout(name: str) -> str:
    """The key of the held-out figure ``name`` of ``validation_logs``: ``heldout("negative_elbo")``."""
    return HELDOUT_PREFIX + name


def evaluation(name: str) -> str:
    """The key of the evaluation figure ``name`` (``fid``, ``kid``, ``precision``, ``recall``, ...)."""
    return EVAL_PREFIX + name


__all__ = ["STEP", "EPOCH", "IMAGES_PER_SECOND", "TIME_SECONDS", "OVERFLOW_STEPS", "BOOKKEEPING", "HELDOUT_PREFIX", "EVAL_PREFIX",
           "heldout", "evaluation"]
