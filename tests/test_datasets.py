"""Datasets: the bundled subset, the fixed split, user folders and .npz files, and downloads."""

import hashlib
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from PIL import Image

from zoo import datasets
from zoo.datasets import download
from zoo.datasets.idx import read_idx, write_idx
from zoo.errors import DataError


def test_bundled_mnist_is_5000_labelled_digits():
    data = datasets.load("mnist")
    assert data.images.shape == (5000, 1, 28, 28) and data.images.dtype == np.uint8
    assert np.bincount(data.labels).tolist() == [500] * 10
    assert data.num_classes == 10


def test_split_is_fixed_disjoint_and_90_10():
    data = datasets.load("mnist")
    train, heldout = datasets.split(data, "train"), datasets.split(data, "heldout")
    assert (len(train), len(heldout)) == (4500, 500)
    again = datasets.split(datasets.load("mnist"), "heldout")
    assert np.array_equal(heldout.images, again.images)
    train_rows = {row.tobytes() for row in train.images}
    assert not any(row.tobytes() in train_rows for row in heldout.images[:50])


def _save(path, array, mode):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode).save(path)


def test_folder_with_class_subfolders_gives_labels(tmp_path):
    rng = np.random.default_rng(0)
    for cls in ("cat", "dog"):
        for i in range(3):
            _save(tmp_path / cls / f"{i}.png", rng.integers(0, 255, (32, 32, 3), dtype=np.uint8), "RGB")
    (tmp_path / "dog" / "notes.txt").write_text("not an image")
    data = datasets.load(str(tmp_path))
    assert data.images.shape == (6, 3, 32, 32)
    assert data.labels.tolist() == [0, 0, 0, 1, 1, 1] and data.classes == ("cat", "dog")


def test_folder_of_mixed_sizes_is_resized_to_the_common_one(tmp_path, capsys):
    for i, side in enumerate((28, 28, 40)):
        _save(tmp_path / f"{i}.png", np.full((side, side), 200, np.uint8), "L")
    data = datasets.load(str(tmp_path))
    assert data.images.shape == (3, 1, 28, 28) and data.labels is None
    assert "resizing" in capsys.readouterr().err


def test_a_folder_is_decoded_once_and_again_when_it_changes(tmp_path, monkeypatch):
    from zoo.datasets import folder_cache

    folder = tmp_path / "faces"
    rng = np.random.default_rng(1)
    pixels = rng.integers(0, 255, (4, 16, 16, 3), dtype=np.uint8)
    for i, picture in enumerate(pixels):
        _save(folder / f"{i}.png", picture, "RGB")
    first = datasets.load(str(folder))
    assert first.mapped and np.array_equal(np.asarray(first.images), pixels.transpose(0, 3, 1, 2))

    def no_decoding(path):
        raise AssertionError(f"decoded {path} again")

    with monkeypatch.context() as patched:
        patched.setattr(folder_cache, "_open", no_decoding)
        assert np.array_equal(np.asarray(datasets.load(str(folder)).images), np.asarray(first.images))
    _save(folder / "4.png", pixels[0], "RGB")
    assert len(datasets.load(str(folder))) == 5
    caches = list(folder_cache.cache_home().glob("datasets/folders/faces-*"))
    assert len(caches) == 2 and not any(p.name.endswith(".building") for p in caches)


def test_an_npy_file_is_read_memory_mapped_and_bad_ones_are_refused(tmp_path):
    good = np.random.default_rng(0).integers(0, 255, (20, 12, 12), dtype=np.uint8)
    np.save(tmp_path / "good.npy", good)
    data = datasets.load(str(tmp_path / "good.npy"))
    assert data.mapped and data.shape == (1, 12, 12) and np.array_equal(np.asarray(data.images)[:, 0], good)
    np.save(tmp_path / "floats.npy", good.astype(np.float32))
    with pytest.raises(DataError, match="uint8"):
        datasets.load(str(tmp_path / "floats.npy"))
    (tmp_path / "cut.npy").write_bytes((tmp_path / "good.npy").read_bytes()[:-100])
    with pytest.raises(DataError, match="shorter than its header"):
        datasets.load(str(tmp_path / "cut.npy"))


@pytest.mark.parametrize("setup, message", [
    (lambda p: None, "no images found"),
    (lambda p: (p / "a.txt").write_text("hello"), "no images found"),
    (lambda p: (p / "broken.png").write_bytes(b"not a png"), "not a readable image"),
])
def test_empty_or_non_image_folders_are_rejected(tmp_path, setup, message):
    setup(tmp_path)
    with pytest.raises(DataError, match=message):
        datasets.load(str(tmp_path))


def test_npz_layouts(tmp_path):
    nhwc = tmp_path / "nhwc.npz"
    np.savez(nhwc, images=np.zeros((4, 32, 32, 3), np.uint8), labels=np.arange(4))
    assert datasets.load(str(nhwc)).shape == (3, 32, 32)
    floats = tmp_path / "floats.npz"
    np.savez(floats, images=np.full((2, 28, 28), 1.0, np.float32))
    assert datasets.load(str(floats)).images.max() == 255


@pytest.mark.parametrize("arrays, message", [
    ({"pixels": np.zeros((2, 28, 28), np.uint8)}, "no 'images' array"),
    ({"images": np.zeros((2, 28), np.uint8)}, "expected"),
    ({"images": np.zeros((2, 4, 4), np.uint8)}, "too small"),
    ({"images": np.full((2, 28, 28), 7.0)}, "uint8 or floats in \\[0, 1\\]"),
])
def test_bad_npz_files_are_rejected(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError, match=message):
        datasets.load(str(path))


def test_unknown_name_or_missing_path():
    with pytest.raises(DataError, match="unknown dataset 'mnsit'.*mnist"):
        datasets.load("mnsit")


# --- downloads, against a server on 127.0.0.1 ---------------------------------------------------------------

class RangeServer(BaseHTTPRequestHandler):
    files: dict = {}
    requests: list = []

    def do_GET(self):
        name = self.path.rsplit("/", 1)[-1]
        self.requests.append((name, self.headers.get("Range")))
        if name not in self.files:
            self.send_error(404)
            return
        body, status = self.files[name], 200
        if self.headers.get("Range"):
            start = int(self.headers["Range"].split("=")[1].split("-")[0])
            body, status = body[start:], 206
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    images = np.random.default_rng(1).integers(0, 256, (10, 28, 28), dtype=np.uint8)
    labels = np.arange(10, dtype=np.uint8)
    write_idx(tmp_path / "imgs.gz", images)
    write_idx(tmp_path / "lbls.gz", labels)
    blobs = {"imgs.gz": (tmp_path / "imgs.gz").read_bytes(), "lbls.gz": (tmp_path / "lbls.gz").read_bytes()}
    handler = type("Handler", (RangeServer,), {"files": blobs, "requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ZOO_DATASET_MIRROR", f"http://127.0.0.1:{server.server_port}/")
    spec = replace(download.MNIST_FULL,
                   images=download.RemoteFile("imgs.gz", hashlib.sha256(blobs["imgs.gz"]).hexdigest(), ()),
                   labels=download.RemoteFile("lbls.gz", hashlib.sha256(blobs["lbls.gz"]).hexdigest(), ()))
    yield spec, blobs, handler, images
    server.shutdown()


def test_download_verifies_and_caches(mirror):
    spec, _, handler, images = mirror
    data = download.load_remote(spec)
    assert np.array_equal(data.images[:, 0], images) and data.labels.tolist() == list(range(10))
    assert len(handler.requests) == 2
    download.load_remote(spec)
    assert len(handler.requests) == 2, "a cached, verified file was downloaded again"
    assert not list((download.cache_root() / spec.name).glob("*.part"))


def test_interrupted_download_resumes_with_a_range_request(mirror):
    spec, blobs, handler, _ = mirror
    folder = download.cache_root() / spec.name
    folder.mkdir(parents=True)
    (folder / "imgs.gz.part").write_bytes(blobs["imgs.gz"][:100])
    download.fetch(spec.name, spec.images)
    assert ("imgs.gz", "bytes=100-") in handler.requests
    assert (folder / "imgs.gz").read_bytes() == blobs["imgs.gz"]


def test_checksum_mismatch_is_refused_and_nothing_is_kept(mirror):
    spec, _, _, _ = mirror
    wrong = replace(spec, images=replace(spec.images, sha256="0" * 64))
    with pytest.raises(DataError, match="sha256 mismatch"):
        download.fetch(wrong.name, wrong.images)
    assert not list((download.cache_root() / spec.name).iterdir())


def test_offline_gives_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_HOME", str(tmp_path))
    monkeypatch.setenv("ZOO_DATASET_MIRROR", "http://127.0.0.1:9/")  # discard port: nothing listens
    with pytest.raises(DataError, match="could not download train-images-idx3-ubyte.gz for mnist-full.*Offline"):
        download.load_remote(download.MNIST_FULL)


def test_idx_round_trip_and_truncation(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "a.gz", array)
    assert np.array_equal(read_idx(tmp_path / "a.gz"), array)
    import gzip

    with gzip.open(tmp_path / "short.gz", "wb") as fh:
        fh.write(bytes([0, 0, 8, 1]) + (100).to_bytes(4, "big") + b"\0" * 10)
    with pytest.raises(DataError, match="header says 100 bytes"):
        read_idx(tmp_path / "short.gz")


def cifar_archive(path, records_per_batch=20, seed=0):
    """A CIFAR-10 binary archive in the real layout (five training batches, a test batch, the class names)."""
    import io
    import tarfile

    rng = np.random.default_rng(seed)
    batches = []
    with tarfile.open(path, "w:gz") as tar:
        def add(name, payload):
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))

        for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
            labels = rng.integers(0, 10, records_per_batch, dtype=np.uint8)
            pixels = rng.integers(0, 256, (records_per_batch, 3, 32, 32), dtype=np.uint8)
            add(name, np.concatenate([labels[:, None], pixels.reshape(records_per_batch, -1)], axis=1).tobytes())
            if name != "test_batch.bin":
                batches.append((pixels, labels))
        add("batches.meta.txt", "\n".join(["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                                            "ship", "truck"]).encode() + b"\n\n")
    return np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches]).astype(np.int64)


@pytest.fixture
def cifar_mirror(tmp_path, monkeypatch):
    """A local server holding a small CIFAR-10 archive, and the checksum table pointed at it."""
    from zoo.datasets import cifar

    images, labels = cifar_archive(tmp_path / "cifar-10-binary.tar.gz")
    blob = (tmp_path / "cifar-10-binary.tar.gz").read_bytes()
    handler = type("Handler", (RangeServer,), {"files": {"cifar-10-binary.tar.gz": blob}, "requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "home"))  # nothing cached by an earlier test
    monkeypatch.setenv("ZOO_DATASET_MIRROR", f"http://127.0.0.1:{server.server_port}/")
    monkeypatch.setattr(cifar, "CIFAR10", replace(cifar.CIFAR10, archive=replace(
        cifar.CIFAR10.archive, sha256=hashlib.sha256(blob).hexdigest())))
    yield images, labels, handler
    server.shutdown()


def test_cifar10_is_downloaded_verified_and_read_without_pickle(cifar_mirror):
    images, labels, handler = cifar_mirror
    data = datasets.load("cifar10")
    assert data.shape == (3, 32, 32) and len(data) == 100 and data.classes[:2] == ("airplane", "automobile")
    assert np.array_equal(np.asarray(data.images), images) and np.array_equal(data.labels, labels)
    again = datasets.load("cifar10")
    assert len(handler.requests) == 1 and np.array_equal(np.asarray(again.images), images)


def test_cifar_records_of_the_wrong_size_are_refused():
    from zoo.datasets.cifar import read_records

    with pytest.raises(DataError, match="not a whole number of 3073-byte CIFAR records"):
        read_records(b"x" * 3000, 1, "batch")
