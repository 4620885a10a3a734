#!/usr/bin/env bash
# The GPU checks, in one go on a machine with an NVIDIA GPU (about 8 minutes): the CUDA tests, a two-process NCCL
# run when there are two GPUs, and images/s with peak GPU memory of the default DCGAN in fp32, bf16 and fp16, zoo
# against the plain loop. Run from the repository root after the README's test setup (.venv with the dev
# requirements; on a GPU machine install a CUDA build of torch instead of the CPU pin).
#   bash benchmarks/gpu_check.sh 2>&1 | tee gpu_check.log
set -euo pipefail
cd "$(dirname "$0")/.."
py=${PYTHON:-.venv/bin/python}
"$py" - <<'PY'
import torch
assert torch.cuda.is_available(), "no CUDA device: this script is for a GPU machine"
for i in range(torch.cuda.device_count()):
    p = torch.cuda.get_device_properties(i)
    print(f"GPU {i}: {p.name}, {p.total_memory / 2**30:.0f} GiB, capability {p.major}.{p.minor}, "
          f"native bf16: {torch.cuda.is_bf16_supported(including_emulation=False)}")
PY
echo "== CUDA tests (they skip elsewhere)"
"$py" -m pytest -q -p no:cacheprovider -k "cuda or gpu or nccl" tests plugins
echo "== zoo train on the GPU in each precision, a few hundred steps, then a resume"
tmp=$(mktemp -d)
for precision in fp32 bf16 fp16; do
  "$py" -m zoo train dcgan --steps 200 --checkpoint-every 100 --device cuda --precision "$precision" \
      --out "$tmp/dcgan-$precision" --quiet
  "$py" -m zoo train --resume "$tmp/dcgan-$precision" --steps 300 --quiet
done
if [ "$("$py" -c 'import torch; print(torch.cuda.device_count())')" -ge 2 ]; then
  echo "== two processes, NCCL"
  "$py" -m torch.distributed.run --standalone --nproc-per-node 2 -m zoo train dcgan --steps 200 --device cuda \
      --batch-size 32 --out "$tmp/dcgan-2gpu" --quiet
fi
echo "== images/s and peak GPU memory: zoo against the plain loop (median of 3 interleaved runs)"
"$py" benchmarks/train_speed.py --device cuda --fp16 --steps 300 --warmup 30 --repeats 3
rm -rf "$tmp"
