"""--features inception: the FID Inception network's layout, its weights' one safe path in (pinned sha256, local
HTTP server), and the evaluation figures it gives. The real weights are not here: the test against pytorch-fid
with them runs where both are present."""

import hashlib
import json
import os
import threading
from dataclasses import replace
from http.server import ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
import torch

from test_datasets import RangeServer
from zoo.errors import DataError
from zoo.evaluation import inception, metrics
from zoo.evaluation.inception_net import FIDInceptionV3

TORCHVISION_INCEPTION_V3_PARAMETERS = 23_834_568  # inception_v3(aux_logits=False): 1,000 ImageNet classes


def random_network(seed=0) -> FIDInceptionV3:
    torch.manual_seed(seed)
    net = FIDInceptionV3()
    for module in net.modules():  # non-trivial statistics, so eval-mode batch norm is not the identity
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    return net.eval()


def test_the_network_has_the_fid_inception_layout():
    net = FIDInceptionV3()
    # torchvision's no-aux Inception-v3, plus the TF graph's 8 extra classes (1,008) in the last layer
    assert sum(p.numel() for p in net.parameters()) == TORCHVISION_INCEPTION_V3_PARAMETERS + 8 * 2048 + 8
    shapes = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert shapes["Conv2d_1a_3x3.conv.weight"] == (32, 3, 3, 3)
    assert shapes["Mixed_6e.branch7x7dbl_5.conv.weight"] == (192, 192, 1, 7)
    assert shapes["Mixed_7c.branch3x3dbl_3b.bn.running_var"] == (384,)
    assert shapes["fc.weight"] == (1008, 2048)
    assert net.Mixed_7c.max_pool and not net.Mixed_7b.max_pool  # the FID graph's last pooling branch


def test_pooling_does_not_count_padding_and_outputs_have_their_sizes():
    from zoo.evaluation.inception_net import _avg_pool

    assert torch.equal(_avg_pool(torch.ones(1, 1, 5, 5)), torch.ones(1, 1, 5, 5))  # borders are not diluted
    features, logits = random_network()(torch.rand(2, 1, 28, 28) * 2 - 1)  # grey, any size: resized to 299
    assert features.shape == (2, 2048) and logits.shape == (2, 1008)
    assert torch.isfinite(features).all() and features.std() > 0


def test_grey_images_are_read_as_three_equal_channels():
    net = random_network()
    grey = torch.rand(2, 1, 32, 32) * 2 - 1
    with torch.no_grad():
        assert torch.equal(net(grey)[0], net(grey.repeat(1, 3, 1, 1))[0])


def test_inception_score_of_known_distributions():
    confident = np.eye(10)[np.arange(1000) % 10]  # sure of each image, every class equally often
    assert metrics.inception_score(confident, splits=1) == pytest.approx((10.0, 0.0))
    mean, std = metrics.inception_score(confident, splits=10)  # shuffled parts of 100: classes no longer even
    assert 9.0 < mean < 10.0 and std > 0
    assert metrics.inception_score(np.full((100, 10), 0.1))[0] == pytest.approx(1.0)


@pytest.fixture
def weights_mirror(tmp_path, monkeypatch):
    """A weights file in the real layout (random values) on a local server, and the pinned checksum pointed at it."""
    path = tmp_path / "pt_inception-2015-12-05-6726825d.pth"
    net = random_network(1)
    torch.save({k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}, path)
    blob = path.read_bytes()
    handler = type("Handler", (RangeServer,), {"files": {path.name: blob}, "requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ZOO_DATASET_MIRROR", f"http://127.0.0.1:{server.server_port}/")
    monkeypatch.setattr(inception, "WEIGHTS", replace(inception.WEIGHTS, sha256=hashlib.sha256(blob).hexdigest()))
    yield net, handler
    server.shutdown()


def count_loads(monkeypatch) -> list:
    loads = []
    real_load = torch.load

    def load(*args, **kwargs):
        loads.append(kwargs.get("weights_only"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", load)
    return loads


def test_weights_are_downloaded_verified_and_converted_once(weights_mirror, monkeypatch):
    net, handler = weights_mirror
    loads = count_loads(monkeypatch)
    images = torch.rand(3, 3, 32, 32) * 2 - 1
    first = inception.InceptionFeatures()
    assert loads == [True] and len(handler.requests) == 1  # read once, tensors only
    with torch.no_grad():
        assert np.allclose(first.features(images), net(images)[0].double().numpy(), atol=1e-5)
    (inception.converted_path().parent / inception.WEIGHTS.name).unlink()  # the .pth is not needed again
    again = inception.InceptionFeatures()
    assert loads == [True] and len(handler.requests) == 1
    assert np.array_equal(again.features(images), first.features(images))
    assert inception.converted_path().suffix == ".safetensors"


def test_a_file_with_another_checksum_is_never_read(weights_mirror, monkeypatch, zoo_cli, tmp_path):
    monkeypatch.setattr(inception, "WEIGHTS", replace(inception.WEIGHTS, sha256="0" * 64))
    loads = count_loads(monkeypatch)
    with pytest.raises(DataError, match="the copy downloaded fails its checksum: fetch it from .* and copy it into"):
        inception.InceptionFeatures()
    assert loads == [] and not inception.converted_path().exists()
    assert not list(inception.converted_path().parent.glob("*.pth*"))


@pytest.mark.parametrize("damage", ["truncated", "another file"])
def test_offline_a_wrong_copy_put_there_by_hand_is_said_to_fail_its_checksum(weights_mirror, monkeypatch, tmp_path,
                                                                             damage):
    monkeypatch.setenv("ZOO_DATASET_MIRROR", "http://127.0.0.1:9/")  # nothing listens there
    local = inception.converted_path().parent / inception.WEIGHTS.name
    local.parent.mkdir(parents=True)
    blob = (tmp_path / inception.WEIGHTS.name).read_bytes()  # the fixture's file, whose checksum is pinned
    local.write_bytes(blob[: len(blob) // 2] if damage == "truncated" else os.urandom(4096))
    loads = count_loads(monkeypatch)
    with pytest.raises(DataError) as refused:  # before: "could not be downloaded", as if it were not there
        inception.InceptionFeatures()
    message = str(refused.value)
    assert message.startswith(f"{local}: fails its checksum, a wrong or truncated copy") and "\n" not in message
    assert "replace it with the one from https://github.com/mseitzer/" in message and loads == []


def converted_damage(path: Path, kind: str) -> None:
    """Weights at the converted path that the conversion did not write (or no weights at all)."""
    from safetensors.torch import load_file, save_file
    from safetensors import safe_open

    if kind == "random weights":  # before: loaded silently, with the pinned sha256 as provenance
        save_file({k: v.contiguous() for k, v in random_network(5).state_dict().items()
                   if not k.endswith("num_batches_tracked")}, str(path))
    elif kind == "tensors changed, metadata kept":
        with safe_open(str(path), "pt") as fh:
            metadata = fh.metadata()
        state = load_file(str(path))
        state["fc.weight"] = state["fc.weight"] * 3
        save_file(state, str(path), metadata=metadata)
    else:  # garbage; before: "SafetensorError: header too large", no file named
        path.write_bytes(b"\xff" * 100)


@pytest.mark.parametrize("kind", ["random weights", "tensors changed, metadata kept", "garbage"])
def test_a_converted_file_is_verified_and_converted_again_or_refused(weights_mirror, monkeypatch, capsys, kind):
    net, handler = weights_mirror
    images = torch.rand(2, 3, 32, 32) * 2 - 1
    expected = inception.InceptionFeatures().features(images)
    path, original = inception.converted_path(), inception.converted_path().parent / inception.WEIGHTS.name
    kept = original.read_bytes()
    converted_damage(path, kind)
    original.unlink()
    capsys.readouterr()
    with pytest.raises(DataError) as refused:  # no original to convert again: refused, naming the file
        inception.InceptionFeatures()
    assert str(refused.value).startswith(f"{path}: ") and "delete it and evaluate again" in str(refused.value)
    assert "\n" not in str(refused.value) and len(handler.requests) == 1  # nothing downloaded meanwhile
    original.write_bytes(kept)
    loads = count_loads(monkeypatch)
    again = inception.InceptionFeatures()  # the original is there: converted again, with one line saying so
    err = capsys.readouterr().err
    assert loads == [True] and err.startswith(f"zoo: {path}: ") and err.endswith(f"converting {inception.WEIGHTS.name} again\n")
    assert len(err.splitlines()) == 1
    assert np.array_equal(again.features(images), expected) and len(handler.requests) == 1
    inception.read_converted(path)  # the file is a verified conversion again


def test_offline_without_weights_the_cli_says_how_to_get_them_in_one_line(zoo_cli, tmp_path, tiny_eval_data, monkeypatch):
    monkeypatch.setenv("ZOO_DATASET_MIRROR", "http://127.0.0.1:9/")  # nothing listens there
    samples = tmp_path / "samples.npz"
    np.savez(samples, images=np.zeros((20, 28, 28), np.uint8))
    code, _, err = zoo_cli("eval", "--samples", samples, "--data", tiny_eval_data, "--features", "inception")
    assert code != 0 and len(err.strip().splitlines()) == 1
    assert "pt_inception-2015-12-05-6726825d.pth" in err and "copy it into" in err
    assert "ZOO_DATASET_MIRROR=http://127.0.0.1:9/ replaces the download URLs of the weights too" in err


def test_offline_the_message_gives_the_url_and_the_folder_and_no_dataset_variable(monkeypatch, tmp_path):
    """Before: "... or set ZOO_DATASET_MIRROR to a folder URL holding it", a dataset setting, for weights."""
    import urllib.error

    from zoo.datasets import download

    def offline(url, part):
        raise urllib.error.URLError("no network")

    monkeypatch.setenv("ZOO_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(download, "_download", offline)
    with pytest.raises(DataError) as refused:
        inception.InceptionFeatures()
    message, folder = str(refused.value), inception.converted_path().parent
    assert message == (f"--features inception needs {inception.WEIGHTS.name} (95.6 MB, sha256 6726825d0af5...); it "
                       f"could not be downloaded: fetch it from https://github.com/mseitzer/pytorch-fid/releases/"
                       f"download/fid_weights/{inception.WEIGHTS.name} and copy it into {folder}")
    assert folder == tmp_path / "home" / "weights" / "inception"


def test_a_verified_file_in_another_layout_is_refused(weights_mirror, tmp_path, monkeypatch):
    path = tmp_path / "other.pth"
    torch.save({"fc.weight": torch.zeros(1008, 2048)}, path)
    with pytest.raises(DataError, match="not the FID Inception weights"):
        inception.convert(path, tmp_path / "out.safetensors")
    assert not (tmp_path / "out.safetensors").exists()


def test_eval_in_the_inception_space_reports_is_and_its_provenance(zoo_cli, tmp_path, tiny_eval_data, monkeypatch):
    import functools

    monkeypatch.setattr(inception, "load_network", lambda: random_network(2))
    # 2,048-dimensional covariances: each bootstrap round of fid_std costs an eigendecomposition; two suffice here
    monkeypatch.setattr(metrics, "fid_spread", functools.partial(metrics.fid_spread, rounds=2))
    samples = tmp_path / "samples.npz"
    np.savez(samples, images=np.random.default_rng(0).integers(0, 256, (12, 28, 28), dtype=np.uint8))
    code, out, err = zoo_cli("eval", "--samples", samples, "--data", tiny_eval_data, "--features", "inception", "--json")
    assert code == 0, err
    report = json.loads(out)
    model = report["model"]
    assert model["inception_score"] >= 1.0 and "inception_score_std" in model and "fid" in model
    assert "classes_covered" not in model  # ImageNet's classes say nothing about the data's own
    provenance = report["info"]["provenance"]
    assert provenance["features"] == "inception" and provenance["features_sha256"] == inception.WEIGHTS.sha256


REAL_WEIGHTS = os.environ.get("ZOO_INCEPTION_WEIGHTS", "")


@pytest.mark.skipif(not Path(REAL_WEIGHTS).is_file(), reason="set ZOO_INCEPTION_WEIGHTS to pt_inception-2015-12-05-6726825d.pth")
def test_features_match_pytorch_fid_with_the_real_weights(tmp_path, monkeypatch):
    pytorch_fid = pytest.importorskip("pytorch_fid.inception")
    from zoo.datasets import download

    assert download.sha256_of(Path(REAL_WEIGHTS)) == inception.WEIGHTS.sha256
    inception.convert(Path(REAL_WEIGHTS), tmp_path / "w.safetensors")
    monkeypatch.setattr(inception, "converted_path", lambda: tmp_path / "w.safetensors")
    ours = inception.InceptionFeatures()
    monkeypatch.setattr(pytorch_fid, "load_state_dict_from_url", lambda *a, **k: torch.load(REAL_WEIGHTS, weights_only=True))
    theirs = pytorch_fid.InceptionV3([3]).eval()
    images = torch.from_numpy(np.random.default_rng(0).integers(0, 256, (8, 3, 32, 32), dtype=np.uint8)).float() / 255
    with torch.no_grad():
        reference = theirs(images)[0].flatten(1).double().numpy()
    assert np.allclose(ours.features(images * 2 - 1), reference, atol=1e-4)
