"""The model card of a model folder: ``README.md`` with YAML front matter as the Hugging Face Hub reads it
(``library_name``, ``tags``, ``pipeline_tag``, ``datasets``), the sample grid, how to install and sample, the
evaluation with its provenance, and what the folder holds. Standard library only.

Every value that comes from a run (class names, dataset paths, config strings, eval.json) is escaped: in the
front matter as JSON strings (valid YAML), in the text with CommonMark backslash escapes, so a name such as
``<script>`` or ``| a | b |`` is text, never markup.
"""

from __future__ import annotations

import json
import math
import re

from zoo.outputs.figures import BETTER, REAL_MEANS, better, cell
from zoo.store.model_folder import CONFIG, GRID, WEIGHTS

PLACEHOLDER = "hf://OWNER/NAME"  # zoo push writes the repository's name in its place
HUB_DATASETS = {"mnist": "ylecun/mnist", "mnist-full": "ylecun/mnist", "fashion-mnist": "zalando-datasets/fashion_mnist",
                "cifar10": "uoft-cs/cifar10", "cifar100": "uoft-cs/cifar100"}
MAX_CLASSES_SHOWN = 100


def text(value) -> str:
    """``value`` as CommonMark text on one line, every mark that could start inline markup or HTML (or the Hub's
    $math$) escaped; line-start markup cannot occur, values are never first on a line."""
    return re.sub(r"([\\`*_\[\]<>|!~&$])", r"\\\1", " ".join(str(value).split()))


SAFE = re.compile(r"[A-Za-z0-9._:/@+=-]{1,200}")


def code(value) -> str:
    """``value`` as inline code if it is a plain name (no escapes work inside code), else as escaped text."""
    return f"`{value}`" if SAFE.fullmatch(str(value)) else text(value)


def _yaml(value) -> str:
    return json.dumps(value, ensure_ascii=True)  # a JSON string or list is a YAML flow scalar or sequence


def _dataset(config: dict) -> str | None:
    """The dataset's name as a reader knows it: a registered name, or a file's or folder's last part."""
    source = (config.get("data") or {}).get("dataset")
    return None if not source else source.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def front_matter(config: dict, conditional: bool) -> str:
    model, dataset = config["model"], (config.get("data") or {}).get("dataset")
    tags = ["zoo", model, "image-generation", "safetensors"] + (["class-conditional"] if conditional else [])
    lines = ["---", "library_name: zoo", "tags:"] + [f"- {_yaml(tag)}" for tag in tags]
    lines.append("pipeline_tag: unconditional-image-generation")
    if dataset in HUB_DATASETS:
        lines += ["datasets:", f"- {_yaml(HUB_DATASETS[dataset])}"]
    return "\n".join(lines + ["---", ""])


def _cell(value) -> str:
    """A figure as ``zoo eval`` prints it; what is no number (eval.json is a file anyone can edit) as text."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return cell(value)
    return "-" if value is None else text(value)


def evaluation_section(evaluation: dict | None, repo: str) -> list[str]:
    head = ["## Evaluation", ""]
    if not evaluation:
        return head + [f"Not evaluated yet: `zoo eval {repo}` measures FID, KID, precision and recall beside the "
                       "held-out floor.", ""]
    model, floor = evaluation.get("model") or {}, evaluation.get("floor") or {}
    info = evaluation.get("info") or {}
    origin = info.get("provenance") if isinstance(info.get("provenance"), dict) else {}
    figures = [k for k in BETTER if k in model and k != "n"] + [k for k in model if k not in BETTER and k != "shares"]
    rows = ["| figure | better | model | held-out real (floor) |", "|---|---|---:|---:|"]
    rows += [f"| {text(figure)} | {better(figure)} | {_cell(model.get(figure))} | {_cell(floor.get(figure))} |"
             for figure in figures]
    weights = origin.get("features_sha256")
    space = code(origin.get('features', info.get('features', '?'))) + (
        f" (weights sha256 {text(str(weights)[:16])}…)" if weights else "")
    said = (f"Measured by `zoo eval` from the run's `eval.json`: {_cell(origin.get('n', model.get('n')))} samples "
            f"(seed {_cell(origin.get('seed', info.get('seed')))}) in the feature space {space}, against "
            f"{_cell(info.get('train_images'))} training images of {text(origin.get('data', info.get('data', '?')))} "
            f"(split {text(origin.get('split', '?'))}, data sha256 {text(str(origin.get('data_sha256', '?'))[:16])}…; "
            f"zoo {text(origin.get('zoo', '?'))}). The floor is the same figure for "
            f"{_cell(info.get('heldout_images'))} held-out real images: what a perfect model would score. "
            "Figures are comparable only with others of the same provenance."
            + (f" Better {REAL_MEANS}." if any(better(f) == "real" for f in figures) else ""))
    return head + rows + ["", said, ""]


def render(config: dict, *, summary: str = "", conditional: bool = False, evaluation: dict | None = None,
           repo: str = PLACEHOLDER) -> str:
    """The card of the model folder whose ``config.json`` is ``config``; ``evaluation`` is the run's eval.json."""
    model, plugin = config["model"], config.get("plugin") or {}
    source, weights = config.get("source") or {}, config.get("weights") or {}
    distribution = plugin.get("distribution") or "the plugin that provides it"
    shape = "x".join(str(d) for d in config["data_shape"])
    dataset = _dataset(config)
    trained = f", trained for {source['step']} steps" if isinstance(source.get("step"), int) else ""
    on = f" on {text(dataset)}" if dataset else ""
    install = "'zoo-core[hub]'" + (f" {distribution}" if SAFE.fullmatch(str(plugin.get("distribution"))) else "")
    lines = [front_matter(config, conditional), f"# {text(model)}{on}", "",
             f"![64 samples of {text(model)}, seed 0]({GRID})", "",
             f"A {code(model)} model{': ' + text(summary) if summary else ''}. It makes {shape} images{trained}"
             f"{on}. Made with [zoo](https://pypi.org/project/zoo-core/) {text(config.get('zoo_version', '?'))} and "
             f"{text(distribution)}{' ' + text(plugin['version']) if plugin.get('version') else ''}.", "",
             "## Sample from it", "", "```bash", f"pip install {install}",
             f"zoo sample {repo} -n 64 --out grid.png", "```", "",
             "From Python (images in [-1, 1], shape (N, C, H, W)):", "", "```python", "import zoo", "",
             f'model = zoo.load_model("{repo}")', "images = model.sample(16, seed=0)", "```", ""]
    if config.get("classes"):
        names = config["classes"][:MAX_CLASSES_SHOWN]
        more = f" and {len(config['classes']) - len(names)} more" if len(config["classes"]) > len(names) else ""
        lines += [f"Classes: {', '.join(text(c) for c in names)}{more}."
                  + (" Draw one with `--label K`." if conditional else ""), ""]
    lines += evaluation_section(evaluation, repo)
    lines += ["## Training", "", "| config key | value |", "|---|---|"]
    lines += [f"| {text(key)} | {text(value if isinstance(value, str) else json.dumps(value))} |"
              for key, value in sorted((config.get("config") or {}).items())]
    kept, left = weights.get("networks") or [], weights.get("left_out") or []
    fresh = f"; {', '.join(text(n) for n in left)} start from new weights, as this folder holds " \
        "the sampling networks only" if left else ""
    lines += ["", f"Fine-tune it on your data with `zoo train --init-from {repo} --data DATA` (a new run{fresh}).",
              "", "## Files", "",
              f"- `{WEIGHTS}`: the weights ({text(weights.get('dtype', 'float32'))}) of "
              f"{', '.join(text(n) for n in kept) or 'the model'}"
              + (f"; left out (used only in training): {', '.join(text(n) for n in left)}" if left else "")
              + ". No optimiser, RNG or trainer state.",
              f"- `{CONFIG}`: the model, its config, the data shape and classes, the versions, where it came from.",
              f"- `{GRID}`: the grid above (`zoo sample {repo} -n 64 --seed 0`).", "",
              f"zoo reads only `{CONFIG}` and `{WEIGHTS}` (as JSON and safetensors, never a pickle), whatever else "
              "a folder holds.", ""]
    return "\n".join(lines)


__all__ = ["render", "front_matter", "text", "PLACEHOLDER", "HUB_DATASETS"]
