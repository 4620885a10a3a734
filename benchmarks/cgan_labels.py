"""How often does a digit classifier agree with the label a conditional model was asked for?

Draws N samples per label from a checkpoint and classifies them with zoo eval's domain classifier (trained on
the same dataset's training split, cached). Beside each label's agreement it prints the floor: how often the same
classifier gets the held-out *real* digits of that label right. A model that drew exactly the data's digits would
land on the floor, not at 100 %: the classifier itself misreads some real digits (on the bundled MNIST subset it
reads 96 % of the held-out digits right, and about 81 % of the 7s). A label is short when its agreement is below
its floor by more than two standard errors of the difference (the floor's from ~50 held-out digits, Agresti-Coull
adjusted so that a floor of 50/50 still has an error).

    python benchmarks/cgan_labels.py runs/cgan -n 500
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

import numpy as np
import torch

from zoo import datasets
from zoo.store.checkpoint import build_model, load_checkpoint
from zoo.evaluation.classifier import DomainFeatures
from zoo.outputs.images import to_float


@dataclass
class LabelAgreement:
    generated: list[float]  # per label: the share of its samples the classifier reads as that label
    real_right: list[int]  # per label: held-out real digits of it the classifier reads right
    real_count: list[int]  # per label: held-out real digits of it
    n: int  # samples drawn per label

    @property
    def floor(self) -> list[float]:
        return [right / count for right, count in zip(self.real_right, self.real_count)]

    @property
    def accuracy(self) -> float:
        """The classifier's accuracy on all held-out real digits: the floor of the mean agreement."""
        return sum(self.real_right) / sum(self.real_count)

    @property
    def mean(self) -> float:
        return sum(self.generated) / len(self.generated)

    def short(self, label: int) -> bool:
        """Is ``label`` read right significantly less often than real digits of it (by > 2 standard errors)?"""
        real = (self.real_right[label] + 2) / (self.real_count[label] + 4)
        drawn = self.generated[label]
        error = math.sqrt(real * (1 - real) / (self.real_count[label] + 4) + drawn * (1 - drawn) / self.n)
        return drawn < real - 2 * error

    @property
    def shortfalls(self) -> list[int]:
        return [label for label in range(len(self.generated)) if self.short(label)]


def agreement(checkpoint, n: int = 500, seed: int = 0) -> LabelAgreement:
    """Each label's agreement for a conditional model's checkpoint, beside the held-out real digits' floor."""
    ckpt = load_checkpoint(checkpoint)
    model = build_model(ckpt)
    if not model.conditional:
        raise SystemExit(f"{model.name} is not a conditional model")
    loaded = datasets.load(ckpt.meta.get("dataset", "mnist"))
    classifier = DomainFeatures(datasets.split(loaded, "train"))
    heldout = datasets.split(loaded, "heldout")
    read = classifier.logits(to_float(heldout.images)).argmax(1)
    shares, right, count = [], [], []
    for label in range(model.num_classes):
        images = model.sample(n, seed=seed + label, labels=torch.full((n,), label))
        shares.append(float((classifier.logits(images).argmax(1) == label).mean()))
        mine = heldout.labels == label
        right.append(int(np.sum(read[mine] == label)))
        count.append(int(np.sum(mine)))
    return LabelAgreement(shares, right, count, n)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("-n", type=int, default=500, help="samples per label")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    result = agreement(args.checkpoint, args.n, args.seed)
    print("label  agreement  floor (held-out real digits read right)")
    for label, (share, floor) in enumerate(zip(result.generated, result.floor)):
        mark = "  short" if result.short(label) else ""
        print(f"{label:>5}  {share:9.1%}  {floor:5.1%} of {result.real_count[label]}{mark}")
    print(f"mean agreement {result.mean:.1%} of {args.n * len(result.generated)} samples; "
          f"the classifier reads {result.accuracy:.1%} of {sum(result.real_count)} held-out real digits right; "
          f"labels short of their floor: {', '.join(map(str, result.shortfalls)) or 'none'}")


if __name__ == "__main__":
    main()
