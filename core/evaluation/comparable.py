"""Whether two evaluations can be set side by side: their provenance must agree (standard library only, so
``zoo runs compare`` reads eval.json files without torch)."""

from __future__ import annotations

COMPARABLE = ("features", "features_sha256", "data_sha256", "heldout_sha256", "split", "n")
"""Provenance keys that must agree for two evaluations to be set side by side (the seed and zoo's version may
differ: the seed is what FID's spread is about, and a change in zoo that moves figures changes a hash here)."""


def mismatch(first: dict | None, second: dict | None) -> str | None:
    """Why two evaluations' figures cannot be compared (None when they can)."""
    if not first or not second:
        return "it has no provenance (evaluated by zoo before 0.3); evaluate it again with zoo eval"
    for key in COMPARABLE:
        if first.get(key) != second.get(key):
            what = {"n": "sample counts", "features": "feature spaces", "features_sha256": "feature weights",
                    "data_sha256": "training data", "heldout_sha256": "held-out data", "split": "splits"}[key]
            short = lambda v: v[:12] if isinstance(v, str) and key.endswith("sha256") else v  # noqa: E731
            return f"their {what} differ ({short(first.get(key))} vs {short(second.get(key))})"
    return None
