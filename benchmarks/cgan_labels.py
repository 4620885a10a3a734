"""How often does a digit classifier agree with the label a conditional model was asked for?

A thin caller of ``zoo eval``'s per-label figures (zoo.evaluation.conditional): draws N samples per label from
a checkpoint and reads them with zoo eval's feature network (trained on the same dataset's training split,
cached). Beside each label's agreement it prints the floor: how often the same network reads the held-out
*real* digits of that label right. A model that drew exactly the data's digits would land on the floor, not at
100 %: the network itself misreads some real digits. A label is short when its agreement is below its floor by
more than two standard errors of the difference (the floor's from ~50 held-out digits, Agresti-Coull adjusted so
that a floor of 50/50 still has an error). Then each label's intra-class FID and the classification accuracy
score, as ``zoo eval`` reports them.

    python benchmarks/cgan_labels.py runs/cgan -n 500
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

from zoo import datasets
from zoo.evaluation.conditional import short
from zoo.evaluation.figures import cell
from zoo.evaluation.harness import evaluate
from zoo.store.checkpoint import build_model, load_checkpoint


@dataclass
class LabelAgreement:
    generated: list[float]  # per label: the share of its samples the classifier reads as that label
    real_right: list[int]  # per label: held-out real digits of it the classifier reads right
    real_count: list[int]  # per label: held-out real digits of it
    n: int  # samples drawn per label
    report: dict = field(default_factory=dict)  # zoo eval's whole report (per_label, cas, ...)

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
        return short(self.generated[label], self.n, self.real_right[label], self.real_count[label])

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
    report = evaluate(datasets.split(loaded, "train"), datasets.split(loaded, "heldout"), model=model,
                      n=n * model.num_classes, seed=seed).to_dict()
    entries = report["per_label"]
    return LabelAgreement([e["agreement"] for e in entries], [e["floor_right"] for e in entries],
                          [e["floor_n"] for e in entries], n, report)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("-n", type=int, default=500, help="samples per label")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    result = agreement(args.checkpoint, args.n, args.seed)
    print("label  agreement  floor (held-out real digits read right)  intra-class FID: all, as many as held-out "
          "(held-out real)")
    for label, entry in enumerate(result.report["per_label"]):
        mark = "  short" if result.short(label) else ""
        fids = f"{cell(entry['fid']):>8}  {cell(entry['fid_matched']):>8} ({cell(entry['fid_floor'])})"
        print(f"{label:>5}  {entry['agreement']:9.1%}  {entry['floor']:6.1%} of {entry['floor_n']:<27}{fids}{mark}")
    cas = result.report["cas"]
    print(f"mean agreement {result.mean:.1%} of {args.n * len(result.generated)} samples; "
          f"the classifier reads {result.accuracy:.1%} of {sum(result.real_count)} held-out real digits right; "
          f"labels short of their floor: {', '.join(map(str, result.shortfalls)) or 'none'}; "
          f"CAS {cas['model']:.1%} (trained on real digits: {cas['real']:.1%})")


if __name__ == "__main__":
    main()
