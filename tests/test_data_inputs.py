"""Hostile or odd data inputs: each is one line of error (or read correctly), never a traceback, an out-of-memory
kill, an unpickled object or a silently wrong dataset."""

import json
import os
import pickle
import signal
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

import zoo
from zoo import datasets
from zoo.datasets.image_data import MAX_CLASSES
from zoo.errors import DataError


def one_line(err):
    return err.startswith("Error: ") and err.count("\n") == 1


def npz(path, labels, n=40, **extra):
    np.savez(path, images=np.zeros((n, 28, 28), np.uint8), labels=labels, **extra)
    return path


def test_one_huge_label_is_refused_before_cgan_is_built(zoo_cli, tmp_path, monkeypatch):
    labels = np.arange(40) % 2
    labels[7] = 2_000_000
    path = npz(tmp_path / "huge.npz", labels)

    def never(*args, **kwargs):
        raise AssertionError("the model was built")

    monkeypatch.setattr("zoo.training.trainer.create_model", never)
    code, _, err = zoo_cli("train", "cgan", "--data", path, "--steps", "1", "--batch-size", "8",
                           "--out", tmp_path / "run")
    assert code != 0 and one_line(err), err
    assert str(path) in err and "2000000" in err and f"{MAX_CLASSES:,}" in err
    assert not (tmp_path / "run").exists()


def test_a_label_far_above_the_distinct_count_is_refused_sparse_ids_are_not(tmp_path):
    labels = np.arange(40) % 2
    labels[0] = 500
    with pytest.raises(DataError, match=r"sparse.npz: label 500 but only 3 distinct labels.*np.unique"):
        datasets.load(str(npz(tmp_path / "sparse.npz", labels)))
    subset = np.where(np.arange(40) % 2, 3, 5)  # two classes picked from a bigger set keep their ids
    assert datasets.load(str(npz(tmp_path / "subset.npz", subset))).num_classes == 6


def test_uint64_labels_above_2_63_are_refused_not_wrapped_negative(tmp_path):
    labels = np.zeros(40, np.uint64)
    labels[3] = 2**63 + 5
    with pytest.raises(DataError, match=f"label {2**63 + 5} is above zoo's maximum"):
        datasets.load(str(npz(tmp_path / "u64.npz", labels)))


def test_labels_of_shape_n_1_are_squeezed_other_2d_labels_refused(tmp_path):
    column = (np.arange(40) % 2)[:, None]
    assert datasets.load(str(npz(tmp_path / "column.npz", column))).labels.tolist() == column[:, 0].tolist()
    with pytest.raises(DataError, match=r"labels of shape \(20, 2\); expected one per image"):
        datasets.load(str(npz(tmp_path / "pairs.npz", np.zeros((20, 2), np.int64))))


def test_class_names_bound_the_labels_of_any_dataset():
    with pytest.raises(DataError, match=r"label 5 is outside 0..1 \(2 class names\)"):
        datasets.ImageData(np.zeros((2, 1, 8, 8), np.uint8), np.array([0, 5]), "plugin", ("a", "b"))


# --- 16-bit images, links and empty classes in image folders ------------------------------------------------

def test_16_bit_pngs_are_scaled_to_8_bits_not_clipped(tmp_path):
    gradient = np.linspace(0, 65535, 32 * 32).round().astype(np.uint16).reshape(32, 32)
    for i in range(2):
        Image.fromarray(gradient).save(tmp_path / f"{i}.png")
    assert Image.open(tmp_path / "0.png").mode == "I;16"
    pixels = np.asarray(datasets.load(str(tmp_path)).images)[0, 0]
    assert np.array_equal(pixels, np.round(gradient / 257).astype(np.uint8))
    assert (pixels == 255).mean() < 0.01


@pytest.mark.parametrize("mode", ["I;16B", "I"])
def test_every_16_bit_grey_mode_is_scaled(mode):
    from zoo.datasets.pictures import eight_bit

    values = np.array([[0, 257, 32896, 65535]])
    picture = (Image.frombytes(mode, (4, 1), values.astype(">u2").tobytes()) if mode == "I;16B"
               else Image.fromarray(values.astype(np.int32)))
    assert picture.mode == mode
    assert np.asarray(eight_bit(picture, "L")).tolist() == [[0, 1, 128, 255]]


def image_classes(root, *names):
    for name in names:
        (root / name).mkdir(parents=True)
        Image.fromarray(np.full((8, 8), 100, np.uint8)).save(root / name / "0.png")
    return root


@pytest.mark.parametrize("link, target, message", [
    ("loop", ".", "the data folder itself or a folder above it"),
    ("up", "..", "the data folder itself or a folder above it"),
    ("again", "cat", "overlaps class folder cat"),
])
def test_a_class_folder_linking_back_into_the_data_is_refused(tmp_path, link, target, message):
    root = image_classes(tmp_path / "pets", "cat", "dog")
    (root / link).symlink_to(target, target_is_directory=True)
    with pytest.raises(DataError, match=f"{link}: a link to .*{message}.*Remove the link"):
        datasets.load(str(root))


def test_a_class_folder_linked_from_elsewhere_is_followed(tmp_path):
    image_classes(tmp_path / "other-disk", "bird")
    root = image_classes(tmp_path / "pets", "cat")
    (root / "bird").symlink_to(tmp_path / "other-disk" / "bird", target_is_directory=True)
    data = datasets.load(str(root))
    assert data.classes == ("bird", "cat") and data.labels.tolist() == [0, 1]


def test_an_empty_class_folder_is_refused_by_name(tmp_path):
    root = image_classes(tmp_path / "pets", "cat", "dog")
    (root / "cow").mkdir()
    with pytest.raises(DataError, match=r"pets/cow: a class folder with no images.*class id 1"):
        datasets.load(str(root))


def png_claiming(width, height):
    """A PNG whose header claims ``width`` x ``height`` pixels, with almost no data behind it."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def test_a_decompression_bomb_is_one_line(zoo_cli, tmp_path):
    image_classes(tmp_path / "pets", "cat")
    (tmp_path / "pets" / "cat" / "bomb.png").write_bytes(png_claiming(100_000, 100_000))
    code, _, err = zoo_cli("data", "prepare", tmp_path / "pets")
    assert code != 0 and one_line(err) and "bomb.png: its header claims more than" in err, err


# --- files that are not what they say ---------------------------------------------------------------------

class Evil:
    """Unpickling this creates the file ``marker``: a test fails if anything was unpickled."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def test_object_arrays_are_refused_without_unpickling(tmp_path):
    marker = tmp_path / "unpickled"
    np.savez(tmp_path / "obj.npz", images=np.array([Evil(marker)] * 2, dtype=object))
    np.save(tmp_path / "obj.npy", np.array([Evil(marker)] * 2, dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="obj.npz: not a readable .npz.*Object arrays cannot be loaded"):
        datasets.load(str(tmp_path / "obj.npz"))
    with pytest.raises(DataError, match="obj.npy: a memory-mapped dataset must be .* uint8 .* got object"):
        datasets.load(str(tmp_path / "obj.npy"))
    assert not marker.exists()


def test_an_npz_member_that_is_a_raw_pickle_is_refused_unread(tmp_path):
    import zipfile

    marker = tmp_path / "unpickled"
    with zipfile.ZipFile(tmp_path / "raw.npz", "w") as archive:
        archive.writestr("images.npy", pickle.dumps(Evil(marker)))
    with pytest.raises(DataError, match="'images' is not a .npy array inside the .npz"):
        datasets.load(str(tmp_path / "raw.npz"))
    assert not marker.exists()


def test_a_file_that_is_not_a_zip_is_not_a_valid_npz(tmp_path):
    (tmp_path / "fake.npz").write_bytes(b"just some text, not a zip archive")
    with pytest.raises(DataError, match="fake.npz: not a valid .npz") as error:
        datasets.load(str(tmp_path / "fake.npz"))
    assert "allow_pickle" not in str(error.value)


def npy_claiming(path, shape):
    with open(path, "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, {"descr": "|u1", "fortran_order": False, "shape": shape})
        fh.write(bytes(256))
    return str(path)


@pytest.mark.parametrize("shape, message", [
    ((-4, 1, 8, 8), "has a negative side"),
    ((2**40, 1, 2**20, 2**20), "shorter than its header says"),  # 2**80 bytes: wraps in int64
])
def test_an_npy_header_with_an_impossible_shape_is_one_line(tmp_path, shape, message):
    with pytest.raises(DataError, match=message):
        datasets.load(npy_claiming(tmp_path / "odd.npy", shape))


def test_a_fifo_as_data_is_refused_not_waited_on(tmp_path):
    os.mkfifo(tmp_path / "pipe.npy")

    def waited(*args):
        raise AssertionError("zoo opened the FIFO and waited for a writer")

    previous = signal.signal(signal.SIGALRM, waited)
    signal.alarm(10)
    try:
        with pytest.raises(DataError, match="pipe.npy: not a regular file"):
            datasets.load(str(tmp_path / "pipe.npy"))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_one_image_is_too_few_to_split(zoo_cli, tmp_path):
    np.savez(tmp_path / "one.npz", images=np.zeros((1, 28, 28), np.uint8))
    code, _, err = zoo_cli("train", "dcgan", "--data", tmp_path / "one.npz", "--steps", "1", "--out", tmp_path / "r")
    assert code != 0 and one_line(err) and "1 image is too few to split" in err, err


# --- `zoo data` of a dataset made in memory --------------------------------------------------------------

class NoisePlugin:
    @zoo.hookimpl
    def register_datasets(self, register):
        register("noise", lambda: datasets.ImageData(np.zeros((8, 1, 28, 28), np.uint8), None, "noise"),
                 summary="Generated in memory", images=8, shape=(1, 28, 28))


def test_zoo_data_shows_a_generated_dataset_as_in_memory(zoo_cli, register_plugin):
    register_plugin(NoisePlugin(), "noise-plugin")
    code, out, err = zoo_cli("data")
    line = next(line for line in out.splitlines() if line.startswith("noise"))
    assert code == 0 and "in memory" in line and "nothing to cache" in line and "unknown" not in line, out
    code, out, _ = zoo_cli("data", "--json")
    assert next(r for r in json.loads(out) if r["name"] == "noise")["state"] == "in memory"
