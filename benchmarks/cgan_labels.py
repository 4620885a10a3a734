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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("-n", type=int, default=200, help="samples per class")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    ckpt = load_checkpoint(args.checkpoint)
    model = build_model(ckpt)
    if not model.conditional:
        raise SystemExit(f"{model.name} is not a conditional model")
    loaded = datasets.load(ckpt.meta.get("dataset", "mnist"))
    classifier = DomainFeatures(datasets.split(loaded, "train"))
    print(f"classifier held-out accuracy: {classifier.accuracy(datasets.split(loaded, 'heldout')):.1%}")
    hits = 0
    for label in range(model.num_classes):
        labels = torch.full((args.n,), label)
        images = model.sample(args.n, seed=args.seed + label, labels=labels)
        predicted = classifier.logits(images).argmax(1)
        agree = int((predicted == label).sum())
        hits += agree
        print(f"label {label}: {agree / args.n:6.1%}")
    print(f"overall agreement: {hits / (args.n * model.num_classes):.1%} of {args.n * model.num_classes} samples")


if __name__ == "__main__":
    main()
