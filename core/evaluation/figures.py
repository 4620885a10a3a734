"""The evaluation table as ``zoo eval`` prints it and report.html shows it: each figure, which way it is better,
the model's value and the held-out floor's. Standard library only (report.html is written without torch)."""

from __future__ import annotations

BETTER = {  # which way each figure is better; "real" means: as close as possible to the held-out real images
    "n": "", "fid": "lower", "fid_std": "", "kid": "lower", "kid_std": "", "precision": "higher", "recall": "higher",
    "confidence": "higher", "diversity": "real", "inception_score": "higher", "classes_covered": "higher",
    "min_class_share": "real", "max_class_share": "real", "recon_mse": "lower",
}
REAL_MEANS = "real: the closer to the held-out real images, the better"


def better(figure: str) -> str:
    """"higher", "lower", "real" or "" (a count or a spread, better neither way)."""
    if figure in BETTER:
        return BETTER[figure]
    return "higher" if "elbo" in figure else "lower" if "nll" in figure or figure.startswith("fid_n") else ""


def cell(value) -> str:
    """A value as the table shows it: fixed decimals by magnitude, so a column reads at a glance."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 100 else f"{value:.2f}" if abs(value) >= 10 else f"{value:.3f}"
    return str(value)


def table_rows(model: dict, floor: dict) -> list[tuple[str, str, str, str]]:
    """(figure, better, model, held-out real) per figure: the known ones in their usual order, then the others;
    the class shares are a line of their own (``shares_line``)."""
    figures = [k for k in BETTER if k in model] + [k for k in model if k not in BETTER and k != "shares"]
    return [(figure, better(figure), cell(model.get(figure)), cell(floor.get(figure))) for figure in figures]


def info_line(model: dict, info: dict) -> str:
    """What the figures were measured with: features, data, how many samples, the seed, KID's units."""
    accuracy = info.get("classifier_heldout_accuracy")
    accuracy = f", classifier held-out accuracy {accuracy:.1%}" if isinstance(accuracy, (int, float)) else ""
    sampling = info.get("sampling")
    sampling = f" ({', '.join(f'{k} {v}' for k, v in sampling.items())})" if isinstance(sampling, dict) and sampling else ""
    return (f"features: {info.get('features', '?')} on {info.get('data', '?')} ({info.get('train_images', '?')} "
            f"training images{accuracy}); {model.get('n')} samples{sampling}, seed {info.get('seed', '?')}; "
            f"KID {info.get('kid_units', 'in raw feature units')}")


def shares_line(shares: list, classes: list[str] | None = None) -> str:
    """The share of the samples the classifier put in each class."""
    names = classes or [str(i) for i in range(len(shares))]
    return "class shares: " + "  ".join(f"{name} {share:.1%}" for name, share in zip(names, shares))
