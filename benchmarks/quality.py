"""Quality table: train each installed architecture with its defaults, then score it with ``zoo eval``.

Runs the real commands (``zoo train NAME`` then ``zoo eval RUN --json``) one model after another and prints
one Markdown table (model, steps, wall time, FID, KID, classes covered, held-out ELBO / IW-NLL where they apply)
with the held-out-real baseline as the first row, ready for the README.

    python benchmarks/quality.py                     # every installed model, defaults (about 5 min each)
    python benchmarks/quality.py --models dcgan vae --steps 200
    python benchmarks/quality.py --runs runs/dcgan runs/vae    # score run folders trained earlier
    python benchmarks/quality.py --references        # plus the plain-PyTorch DCGAN and VAE, scored alike
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import zoo


def zoo_command(*args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("zoo")
    return subprocess.run([str(exe), *args], capture_output=True, text=True)


def train(name: str, root: Path, steps: int | None) -> tuple[Path | None, str]:
    out = root / name
    command = ["train", name, "--out", str(out), "--quiet"] + (["--steps", str(steps)] if steps else [])
    done = zoo_command(*command)
    if done.returncode != 0:
        print(f"{name}: training failed: {done.stderr.strip()}", file=sys.stderr)
        return None, name
    print(f"{name}: trained", file=sys.stderr)
    return out, name


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=None, help="default: every installed model")
    parser.add_argument("--steps", type=int, default=None, help="override every model's default steps")
    parser.add_argument("-n", type=int, default=2000, help="samples per model for the metrics")
    parser.add_argument("--keep", type=Path, default=None, help="keep the run folders here")
    parser.add_argument("--runs", nargs="*", type=Path, default=None, help="score these run folders instead of training")
    parser.add_argument("--references", action="store_true",
                        help="also train and score the plain-PyTorch DCGAN and VAE (benchmarks/plain_references.py)")
    args = parser.parse_args()
    if args.runs:
        trained = [(run, None) for run in args.runs]
    else:
        root = args.keep or Path(tempfile.mkdtemp(prefix="zoo-quality-"))
        trained = [train(name, root, args.steps) for name in (args.models or zoo.list_models())]

    rows, baseline = [], None
    for out, _ in trained:
        if out is None:
            continue
        scored = zoo_command("eval", str(out), "-n", str(args.n), "--json")
        if scored.returncode != 0:
            print(f"{out}: eval failed: {scored.stderr.strip()}", file=sys.stderr)
            continue
        report = json.loads(scored.stdout)
        baseline = baseline or report["baseline"]
        run = json.loads((out / "config.json").read_text())
        records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
        timed = [r["time_s"] for r in records if "time_s" in r]  # held-out and eval records carry no time
        minutes = timed[-1] / 60 if timed else float("nan")
        rows.append((run["model"], run["train"]["steps"], minutes, report["model"]))

    def likelihood(m):
        parts = [f"{m[k]:.1f}" for k in m if k.startswith("heldout_elbo")] + [f"{m[k]:.1f}" for k in m if k.startswith("iw_nll")]
        return " / ".join(parts) or "-"

    print(f"\n{date.today()}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, n = {args.n} samples\n")
    print("| model | steps | wall time | FID | KID | classes covered | held-out ELBO / IW-NLL (nats) |")
    print("|---|---|---|---|---|---|---|")
    if baseline:
        print(f"| held-out real images | - | - | {baseline['fid']:.2f} | {baseline['kid']:.2f} ± {baseline['kid_std']:.2f} | "
              f"{baseline['classes_covered']} | - |")
    if args.references:
        from plain_references import run as reference

        folder = Path(tempfile.mkdtemp(prefix="zoo-references-"))
        for name in ("dcgan", "vae"):
            row = reference(name, folder, None, args.n)
            rows.append((row["model"], row["steps"], row["minutes"], row["figures"]))
    for name, steps, minutes, m in rows:
        print(f"| {name} | {steps} | {minutes:.1f} min | {m['fid']:.2f} | {m['kid']:.2f} ± {m['kid_std']:.2f} | "
              f"{m['classes_covered']} | {likelihood(m)} |")


if __name__ == "__main__":
    main()
