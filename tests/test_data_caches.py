"""What zoo cached (decoded folders, converted archives, downloads) is verified when read back: a tampered file
is rebuilt, or refused in one line, never trusted; hostile archive members write nothing anywhere."""

import hashlib
import io
import json
import os
import signal
import tarfile
import threading
from contextlib import contextmanager
from dataclasses import replace
from http.server import ThreadingHTTPServer

import numpy as np
import pytest
from PIL import Image

from zoo import datasets
from zoo.datasets import download
from zoo.errors import DataError
from test_datasets import RangeServer, cifar_mirror, mirror  # noqa: F401 -- the fixtures


@contextmanager
def no_waiting(seconds=10):
    """Fail, rather than hang, if something opens a FIFO and waits for a writer."""
    def waited(*args):
        raise AssertionError("zoo opened a FIFO and waited")

    previous = signal.signal(signal.SIGALRM, waited)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def replace_with_folder(path):
    path.unlink()
    path.mkdir()


def replace_with_fifo(path):
    path.unlink()
    os.mkfifo(path)


FOLDER_TAMPERING = {
    "garbage pixels file": lambda c: (c / "images.npy").write_bytes(os.urandom(3000)),
    "pixels of another shape": lambda c: np.save(c / "images.npy", np.zeros((4, 1, 16, 16), np.uint8)),
    "truncated pixels": lambda c: (c / "images.npy").write_bytes((c / "images.npy").read_bytes()[:-50]),
    "pixels file a folder": lambda c: replace_with_folder(c / "images.npy"),
    "info a FIFO": lambda c: replace_with_fifo(c / "info.json"),
    "info of another key": lambda c: (c / "info.json").write_text(
        (c / "info.json").read_text().replace('"key": "', '"key": "0')),
    "info not JSON": lambda c: (c / "info.json").write_text("{not json"),
}


@pytest.mark.parametrize("tamper", FOLDER_TAMPERING)
def test_a_tampered_folder_cache_is_decoded_again(tmp_path, capsys, monkeypatch, tamper):
    from zoo.datasets import folder_cache

    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "home"))
    folder = tmp_path / "faces"
    folder.mkdir()
    pixels = np.random.default_rng(0).integers(0, 256, (4, 16, 16, 3), dtype=np.uint8)
    for i, picture in enumerate(pixels):
        Image.fromarray(picture, "RGB").save(folder / f"{i}.png")
    assert np.array_equal(np.asarray(datasets.load(str(folder)).images), pixels.transpose(0, 3, 1, 2))
    [cache] = folder_cache.cache_home().glob("datasets/folders/faces-*")
    FOLDER_TAMPERING[tamper](cache)
    capsys.readouterr()
    with no_waiting():
        again = datasets.load(str(folder))
    assert np.array_equal(np.asarray(again.images), pixels.transpose(0, 3, 1, 2))
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"ignoring the cache {cache}/" in err and "building it again" in err, err
    assert [p.name for p in cache.parent.iterdir() if p.name.startswith("faces-")] == [cache.name]


CIFAR_TAMPERING = {
    "labels above the classes": lambda c: np.save(c / "labels.npy", np.full(100, 99, np.int64)),
    "labels of objects": lambda c: np.save(c / "labels.npy", np.array([None] * 100), allow_pickle=True),
    "labels a FIFO": lambda c: replace_with_fifo(c / "labels.npy"),
    "pixels cut short": lambda c: (c / "images.npy").write_bytes((c / "images.npy").read_bytes()[:1000]),
    "info of another archive": lambda c: (c / "info.json").write_text(json.dumps(
        {**json.loads((c / "info.json").read_text()), "sha256": "0" * 64})),
}


@pytest.mark.parametrize("tamper", CIFAR_TAMPERING)
def test_a_tampered_cifar_conversion_is_converted_again_without_downloading(cifar_mirror, capsys, tamper):  # noqa: F811
    images, labels, handler = cifar_mirror
    converted = datasets.load("cifar10").images.path.parent
    CIFAR_TAMPERING[tamper](converted)
    capsys.readouterr()
    with no_waiting():
        again = datasets.load("cifar10")
    assert np.array_equal(np.asarray(again.images), images) and np.array_equal(again.labels, labels)
    assert len(handler.requests) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"ignoring the cache {converted}/" in err, err


@pytest.mark.parametrize("make", [lambda p: p.mkdir(), os.mkfifo])
@pytest.mark.parametrize("which", ["imgs.gz", "imgs.gz.part"])
def test_a_download_cache_entry_that_is_not_a_file_is_refused_in_one_line(mirror, make, which):  # noqa: F811
    spec = mirror[0]
    folder = download.cache_root() / spec.name
    folder.mkdir(parents=True)
    make(folder / which)
    with no_waiting(), pytest.raises(DataError, match=f"{which}: not a regular file, where zoo keeps a download"):
        download.load_remote(spec)
    assert os.path.lexists(folder / which), "zoo removed something it did not write"


# --- a hostile CIFAR archive, served from 127.0.0.1 --------------------------------------------------------

TOP = "cifar-10-batches-bin/"


def hostile_archive(path, regular, links=(), extra=()):
    """A CIFAR-10 archive: ``regular`` member names, each 2 records (or the class names); ``links`` (name, target,
    kind) and ``extra`` names of files outside the archive's folder."""
    rng = np.random.default_rng(0)
    with tarfile.open(path, "w:gz") as tar:
        def add(name, payload):
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))

        for name in regular:
            add(TOP + name, b"a\nb\n" if name.endswith(".txt") else
                np.concatenate([[[0], [1]], rng.integers(0, 256, (2, 3072))], axis=1).astype(np.uint8).tobytes())
        for name, target, kind in links:
            info = tarfile.TarInfo(TOP + name)
            info.type, info.linkname = kind, target
            tar.addfile(info)
        for name in extra:
            add(name, b"written where it should not be")
    return path.read_bytes()


@pytest.fixture
def serve_cifar(tmp_path, monkeypatch):
    """``serve_cifar(blob)``: CIFAR-10 is ``blob``, from a local server, its checksum the expected one."""
    from zoo.datasets import cifar

    handler = type("Handler", (RangeServer,), {"files": {}, "requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ZOO_DATASET_MIRROR", f"http://127.0.0.1:{server.server_port}/")

    def serve(blob):
        handler.files["cifar-10-binary.tar.gz"] = blob
        monkeypatch.setattr(cifar, "CIFAR10", replace(cifar.CIFAR10, archive=replace(
            cifar.CIFAR10.archive, sha256=hashlib.sha256(blob).hexdigest())))

    yield serve
    server.shutdown()


BATCHES = [f"data_batch_{i}.bin" for i in range(1, 6)]


@pytest.mark.parametrize("links, message", [
    ([("data_batch_1.bin", "data_batch_1.bin.b", tarfile.SYMTYPE), ("data_batch_1.bin.b", "data_batch_1.bin",
                                                                    tarfile.SYMTYPE)], "data_batch_1.bin is a link"),
    ([("batches.meta.txt", "/etc/hostname", tarfile.SYMTYPE)], "batches.meta.txt is a link"),
    ([("batches.meta.txt", "../../../../outside.txt", tarfile.LNKTYPE)], "batches.meta.txt is a link"),
])
def test_links_in_a_cifar_archive_are_one_line(serve_cifar, zoo_cli, tmp_path, links, message):
    regular = [n for n in [*BATCHES, "batches.meta.txt"] if n not in {link[0] for link in links}]
    serve_cifar(hostile_archive(tmp_path / "a.tar.gz", regular, links))
    code, _, err = zoo_cli("data", "prepare", "cifar10")
    assert code == 1 and err.startswith("Error: ") and err.count("\n") == 1 and message in err, err


def test_traversal_names_in_a_cifar_archive_write_nothing(serve_cifar, tmp_path):
    absolute = tmp_path / "absolute-evil"
    names = ["../../evil", "../../../../../../tmp/evil-root", str(absolute), TOP + "../../escaped-evil"]
    serve_cifar(hostile_archive(tmp_path / "a.tar.gz", [*BATCHES, "batches.meta.txt"], extra=names))
    data = datasets.load("cifar10")
    assert len(data) == 10 and data.classes == ("a", "b")
    assert not absolute.exists() and not os.path.exists("/tmp/evil-root") and not list(tmp_path.rglob("*evil*"))
    cache = download.cache_root() / "cifar10"
    assert sorted(p.name for p in cache.rglob("*")) == ["cifar-10-binary.tar.gz", "converted", "images.npy",
                                                        "info.json", "labels.npy"]
