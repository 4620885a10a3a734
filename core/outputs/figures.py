"""The evaluation table as ``zoo eval`` prints it and report.html shows it: each figure, which way it is better,
the model's value and the held-out floor's. Standard library only (report.html is written without torch)."""

from __future__ import annotations

BETTER = {  # which way each figure is better; "real" means: as close as possible to the held-out real images
    "n": "", "fid": "lower", "fid_std": "", "kid": "lower", "kid_std": "", "precision": "higher", "recall": "higher",
    "confidence": "higher", "diversity": "real", "inception_score": "higher", "classes_covered": "higher",
    "min_class_share": "real", "max_class_share": "real", "label_agreement": "higher", "labels_short": "lower",
    "intra_fid": "lower", "intra_fid_matched": "lower", "cas": "higher", "recon_mse": "lower",
}
REAL_MEANS = "real: the closer to the held-out real images, the better"
NEGATIVE_KID = ("KID below 0: KID is an unbiased estimate, so for images as alike as these (held-out real ones, say) "
                "it scatters around 0, below it too")
LABEL_FIGURES = ("label_agreement", "labels_short", "intra_fid", "intra_fid_matched", "cas")  # conditional models


def better(figure: str) -> str:
    """"higher", "lower", "real" or "" (a count or a spread, better neither way)."""
    if figure in BETTER:
        return BETTER[figure]
    return "higher" if "elbo" in figure else "lower" if "nll" in figure or figure.startswith("fid_n") else ""


def table_notes(model: dict, floor: dict) -> list[str]:
    """The lines under the table that explain how to read it: what "real" means, a KID below 0."""
    figures = [k for k in model if k != "shares"]
    kids = [table.get("kid") for table in (model, floor)]
    return ([REAL_MEANS] if any(better(f) == "real" for f in figures) else []) + \
        ([NEGATIVE_KID] if any(isinstance(kid, (int, float)) and kid < 0 for kid in kids) else [])


def cell(value) -> str:
    """A value as the table shows it: fixed decimals by magnitude, so a column reads at a glance."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 100 else f"{value:.2f}" if abs(value) >= 10 else f"{value:.3f}"
    return str(value)


def table_rows(model: dict, floor: dict) -> list[tuple[str, str, str, str]]:
    """(figure, better, model, held-out real) per figure: the known ones in their usual order, then the others,
    then a conditional model's label figures; the class shares are a line of their own (``shares_line``)."""
    figures = ([k for k in BETTER if k in model and k not in LABEL_FIGURES]
               + [k for k in model if k not in BETTER and k != "shares"] + [k for k in LABEL_FIGURES if k in model])
    return [(figure, better(figure), cell(model.get(figure)), cell(floor.get(figure))) for figure in figures]


def info_line(model: dict, info: dict) -> str:
    """What the figures were measured with: features, data, how many samples, the seed, KID's units."""
    accuracy = info.get("classifier_heldout_accuracy")
    accuracy = f", classifier held-out accuracy {accuracy:.1%}" if isinstance(accuracy, (int, float)) else ""
    sampling = info.get("sampling")
    sampling = ", ".join(f"{k} {v}" for k, v in sampling.items()) if isinstance(sampling, dict) and sampling else ""
    sampler = info.get("sampler")
    if isinstance(sampler, dict) and isinstance(sampler.get("evaluations"), int):
        sampling += f"; {sampler['evaluations']} network evaluations per image"
    sampling = f" ({sampling})" if sampling else ""
    return (f"features: {info.get('features', '?')} on {info.get('data', '?')} ({info.get('train_images', '?')} "
            f"training images{accuracy}); {model.get('n')} samples{sampling}, seed {info.get('seed', '?')}; "
            f"KID {info.get('kid_units', 'in raw feature units')}")


def shares_line(shares: list, classes: list[str] | None = None) -> str:
    """The share of the samples the classifier put in each class."""
    names = classes or [str(i) for i in range(len(shares))]
    return "class shares: " + "  ".join(f"{name} {share:.1%}" for name, share in zip(names, shares))


LABEL_HEADERS = ("label", "n", "agreement", "held-out real", "95% interval", "intra_fid", "matched", "held-out real")
"""The per-label table: the agreement beside its floor (held-out real images of the label read as it, with the
floor's 95 % interval and count), then the intra-class FID of all samples, of as many as the held-out images
of the label, and of those held-out images."""


def _share(value) -> str:
    return f"{value:.1%}" if _number(value) else "-"


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def label_rows(per_label, classes: list | None = None) -> list[tuple[str, ...]]:
    """One row per label (see LABEL_HEADERS), a label short of its floor marked ``short``; entries that are not
    what zoo writes show as "-" rather than failing."""
    rows = []
    for entry in per_label if isinstance(per_label, list) else []:
        if not isinstance(entry, dict):
            continue
        label = entry.get("label")
        name = classes[label] if isinstance(classes, list) and isinstance(label, int) and 0 <= label < len(classes) else label
        low, high, count = entry.get("floor_low"), entry.get("floor_high"), entry.get("floor_n")
        interval = f"{low:.1%}-{high:.1%} of {count}" if _number(low) and _number(high) and _number(count) else "-"
        agreement = _share(entry.get("agreement")) + (" short" if entry.get("short") is True else "")
        rows.append((str(name), cell(entry.get("n")) if _number(entry.get("n")) else "-", agreement,
                     _share(entry.get("floor")), interval,
                     *(cell(entry[key]) if _number(entry.get(key)) else "-" for key in ("fid", "fid_matched", "fid_floor"))))
    return rows


def cas_line(cas) -> str:
    """What the CAS row means, with its standard errors."""
    if not isinstance(cas, dict) or not _number(cas.get("model")) or not _number(cas.get("real")):
        return ""
    error = lambda key: f" ± {cas[key]:.1%}" if _number(cas.get(key)) else ""  # noqa: E731
    return (f"cas: a small classifier trained on {cas.get('model_train_images', '?')} labelled samples reads "
            f"{cas['model']:.1%}{error('model_se')} of {cas.get('heldout_n', '?')} held-out real images right; "
            f"trained on {cas.get('real_train_images', '?')} real training images, {cas['real']:.1%}{error('real_se')}")
