"""How often does a digit classifier agree with the label a conditional model was asked for?

Draws N samples per class from a checkpoint and classifies them with zoo eval's domain classifier (trained on
the same dataset's training split, cached). Prints the agreement per class and overall, with the classifier's
own held-out accuracy for scale.

    python benchmarks/cgan_labels.py runs/cgan -n 200
"""

from __future__ import annotations

import argparse

import torch

from zoo import datasets
from zoo.checkpoint import build_model, load_checkpoint
from zoo.evaluation.classifier import DomainFeatures


def agreement(checkpoint, n: int = 200, seed: int = 0) -> tuple[list[float], float]:
    """(agreement per class, the classifier's held-out accuracy) for a conditional model's checkpoint."""
    ckpt = load_checkpoint(checkpoint)
    model = build_model(ckpt)
    if not model.conditional:
        raise SystemExit(f"{model.name} is not a conditional model")
    loaded = datasets.load(ckpt.meta.get("dataset", "mnist"))
    classifier = DomainFeatures(datasets.split(loaded, "train"))
    shares = []
    for label in range(model.num_classes):
        images = model.sample(n, seed=seed + label, labels=torch.full((n,), label))
        shares.append(float((classifier.logits(images).argmax(1) == label).mean()))
    return shares, classifier.accuracy(datasets.split(loaded, "heldout"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("-n", type=int, default=200, help="samples per class")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    shares, accuracy = agreement(args.checkpoint, args.n, args.seed)
    print(f"classifier held-out accuracy: {accuracy:.1%}")
    for label, share in enumerate(shares):
        print(f"label {label}: {share:6.1%}")
    print(f"overall agreement: {sum(shares) / len(shares):.1%} of {args.n * len(shares)} samples")


if __name__ == "__main__":
    main()
