"""hf://owner/name[@revision] and zoo push, without a network: resolution through huggingface_hub's own offline
mode from a cache laid out as that library lays it out, and the push's one commit recorded at the HfApi methods
it calls (the transport is the library's)."""

import hashlib
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

import zoo
from test_export import MakesMarker, digest, export, train
from zoo.store.model_folder import FILES

huggingface_hub = pytest.importorskip("huggingface_hub")
import huggingface_hub.constants  # noqa: E402 -- the settings it read from the environment at its import
COMMIT, OTHER = "a" * 40, "b" * 40


def cache_model(cache: Path, repo_id: str, folder: Path, commit: str = COMMIT, refs=("main",), extra=()) -> Path:
    """``folder``'s files as huggingface_hub caches a download: blobs named by their hash, the snapshot of
    ``commit`` linking to them, and refs naming the commit. Returns the snapshot folder."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (repo / "blobs").mkdir(exist_ok=True)
    for path in [*(folder / name for name in FILES if (folder / name).exists()), *extra]:
        data = path.read_bytes()
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        (snapshot / path.name).symlink_to(os.path.relpath(blob, snapshot))
    (repo / "refs").mkdir(exist_ok=True)
    for ref in refs:
        (repo / "refs" / ref).write_text(commit)
    return snapshot


@pytest.fixture
def offline(tmp_path, monkeypatch):
    return offline_cache(tmp_path, monkeypatch)


def offline_cache(tmp_path, monkeypatch) -> Path:
    """HF_HUB_OFFLINE=1 and HF_HUB_CACHE in a fresh folder, as the library reads them (at its import, so its
    constants are set too for this process)."""
    cache = tmp_path / "hf-cache"
    cache.mkdir()
    for name, value in {"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(cache), "HF_HOME": str(tmp_path / "hf-home")}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    return cache


@pytest.fixture
def dcgan(zoo_cli, tiny_npz, tmp_path):
    run = train(zoo_cli, "dcgan", tiny_npz, tmp_path / "run")
    return run, export(zoo_cli, run, tmp_path / "model")


def one_line(code, err):
    assert code == 1 and err.startswith("Error: ") and err.count("\n") == 1, err


def test_zoo_sample_hf_reads_the_library_cache_offline(dcgan, tmp_path):
    """The documented command, in a fresh process: HF_HUB_OFFLINE=1 zoo sample hf://owner/name ..."""
    run, folder = dcgan
    marker = tmp_path / "unpickled"
    (tmp_path / "pytorch_model.bin").write_bytes(pickle.dumps(MakesMarker(marker)))
    cache = tmp_path / "hf-cache"
    snapshot = cache_model(cache, "owner/name", folder, extra=[tmp_path / "pytorch_model.bin"])
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(cache), "HF_HOME": str(tmp_path / "hf-home")}
    for source, png in (("hf://owner/name", "hub.png"), (str(run), "run.png")):
        done = subprocess.run([sys.executable, "-m", "zoo", "sample", source, "-n", "16", "--seed", "0", "--out",
                               str(tmp_path / png)], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "hub.png").read_bytes() == (tmp_path / "run.png").read_bytes()
    assert not marker.exists(), "the .bin beside the model was opened"
    assert sorted(p.name for p in snapshot.iterdir()) == sorted([*FILES, "pytorch_model.bin"]), "the cache is unchanged"


def test_revisions_tags_and_commits(dcgan, offline, zoo_cli, tmp_path):
    run, folder = dcgan
    half = export(zoo_cli, run, tmp_path / "half", "--dtype", "fp16")
    cache_model(offline, "owner/name", folder)
    cache_model(offline, "owner/name", half, commit=OTHER, refs=("v1",))
    assert zoo.load_model("hf://owner/name").generator_ema.state_dict()["net.0.weight"].dtype.is_floating_point
    for address, dtype in (("hf://owner/name", "float32"), ("hf://owner/name@v1", "float16"),
                           (f"hf://owner/name@{OTHER}", "float16"), (f"hf://owner/name@{COMMIT}", "float32")):
        code, out, err = zoo_cli("info", address, "--json")
        assert code == 0, err
        assert json.loads(out)["dtype"] == dtype and json.loads(out)["model"] == "dcgan", address
        code, _, err = zoo_cli("sample", address, "-n", "4", "--out", tmp_path / "s.png", "--force")
        assert code == 0, err


@pytest.mark.parametrize("address, says", [
    ("hf://owner/other", "not in the Hugging Face cache, and HF_HUB_OFFLINE is set"),
    ("hf://owner/name@v9", "not in the Hugging Face cache, and HF_HUB_OFFLINE is set"),
    ("hf://owner", "not hf://owner/name[@revision]"),
    ("hf://a/b/c", "not hf://owner/name[@revision]"),
    ("hf://own--er/name", "not hf://owner/name[@revision]"),
    ("hf://owner/name@", "not a revision"),
    ("hf://owner/name@../../x", "not a revision"),
    ("hf://owner/readme-only", "not a zoo model"),
])
def test_hf_addresses_that_do_not_resolve_are_one_line(address, says, dcgan, offline, zoo_cli, tmp_path):
    _, folder = dcgan
    cache_model(offline, "owner/name", folder)
    (tmp_path / "only").mkdir()
    (tmp_path / "only" / "README.md").write_text("# not a zoo model\n")
    cache_model(offline, "owner/readme-only", tmp_path / "only")
    code, _, err = zoo_cli("sample", address, "-n", "2", "--out", tmp_path / "s.png")
    one_line(code, err)
    assert says in err, err


def test_eval_takes_an_hf_model(dcgan, offline, zoo_cli, tmp_path, tiny_eval_data):
    run, folder = dcgan
    snapshot = cache_model(offline, "owner/name", folder)
    before = digest(snapshot)
    code, out, err = zoo_cli("eval", "hf://owner/name", "--data", tiny_eval_data, "-n", "10")
    assert code == 0, err
    assert "fid" in out and digest(snapshot) == before


def test_without_huggingface_hub_hf_and_push_say_what_to_install(dcgan, zoo_cli, tmp_path, monkeypatch):
    run, _ = dcgan
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # import fails, as where it is not installed
    for args in (("sample", "hf://owner/name", "--out", tmp_path / "s.png"), ("push", run, "owner/name")):
        code, _, err = zoo_cli(*args)
        one_line(code, err)
        assert "pip install 'zoo-core[hub]'" in err


@pytest.fixture
def hub_calls(monkeypatch):
    """The HfApi methods zoo push calls, recording their arguments instead of reaching the Hub."""
    calls = []

    def create_repo(self, repo_id, **kwargs):
        calls.append(("create_repo", repo_id, kwargs))
        return huggingface_hub.hf_api.RepoUrl(f"https://huggingface.co/{repo_id}")

    def create_commit(self, repo_id, operations, **kwargs):
        files = {}
        for op in operations:
            data = op.path_or_fileobj
            files[op.path_in_repo] = data if isinstance(data, bytes) else Path(data).read_bytes()
        calls.append(("create_commit", repo_id, {**kwargs, "files": files}))

    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", create_repo)
    monkeypatch.setattr(huggingface_hub.HfApi, "create_commit", create_commit)
    return calls


def test_push_a_run_exports_it_and_commits_zoos_files(dcgan, hub_calls, zoo_cli, tmp_path):
    run, _ = dcgan
    before = digest(run)
    code, out, err = zoo_cli("push", run, "owner/name", "--private")
    assert code == 0, err
    (_, repo, created), (_, committed_to, commit) = hub_calls
    assert repo == committed_to == "owner/name"
    assert created["private"] is True and created["repo_type"] == "model" and created["exist_ok"] is True
    assert sorted(commit["files"]) == sorted(FILES) and commit["repo_type"] == "model"
    card = commit["files"]["README.md"].decode()
    assert "zoo sample hf://owner/name -n 64 --out grid.png" in card and "OWNER/NAME" not in card
    assert json.loads(commit["files"]["config.json"])["source"]["kind"] == "run"
    assert "https://huggingface.co/owner/name" in out and digest(run) == before


def test_push_a_folder_uploads_only_the_files_zoo_wrote(dcgan, hub_calls, zoo_cli, tmp_path):
    _, folder = dcgan
    (folder / "model.pkl").write_bytes(b"not ours")
    (folder / "notes.txt").write_text("private notes")
    before = digest(folder)
    code, _, err = zoo_cli("push", folder, "owner/name", "--message", "first")
    assert code == 0, err
    (_, _, created), (_, _, commit) = hub_calls
    assert created["private"] is None, "without --private the Hub's default visibility"
    assert sorted(commit["files"]) == sorted(FILES) and commit["commit_message"] == "first"
    assert commit["files"]["model.safetensors"] == (folder / "model.safetensors").read_bytes()
    assert digest(folder) == before, "the folder itself keeps its card as written"


def test_push_from_python_is_what_zoo_push_does(dcgan, hub_calls):
    from zoo.sharing import push

    run, _ = dcgan
    pushed = push(run, "owner/name", message="from python")
    (_, repo, created), (_, _, commit) = hub_calls
    assert repo == "owner/name" and created["private"] is None and commit["commit_message"] == "from python"
    assert sorted(pushed.files) == sorted(commit["files"]) == sorted(FILES)
    assert pushed.url == "https://huggingface.co/owner/name"
    assert "zoo sample hf://owner/name -n 64" in commit["files"]["README.md"].decode()


@pytest.mark.parametrize("repo_id", ["owner", "owner/na me", "a/b/c", "x-/y", "a/b--c"])
def test_push_refuses_a_bad_name_or_folder_before_uploading(repo_id, dcgan, hub_calls, zoo_cli):
    _, folder = dcgan
    code, _, err = zoo_cli("push", folder, repo_id)
    one_line(code, err)
    (folder / "config.json").write_text("{}")
    code, _, err = zoo_cli("push", folder, "owner/name")
    one_line(code, err)
    assert hub_calls == []


def test_push_help_says_what_is_uploaded(zoo_cli):
    code, out, _ = zoo_cli("push", "--help")
    out = " ".join(out.split())
    assert code == 0
    for word in ("model.safetensors", "config.json", "README.md", "samples.png", "--private", "hf auth login",
                 "zoo-core[hub]", "Nothing else"):
        assert word in out, word


def test_a_failed_upload_is_one_line(dcgan, monkeypatch, zoo_cli):
    _, folder = dcgan

    def refuse(self, repo_id, **kwargs):
        raise RuntimeError("401 Client Error: Unauthorized for url\nmore detail")  # whatever the library raises

    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", refuse)
    code, _, err = zoo_cli("push", folder, "owner/name")
    one_line(code, err)
    assert "401" in err


def test_an_hf_model_exports_again_and_the_cache_is_only_read(dcgan, offline, zoo_cli, tmp_path):
    _, folder = dcgan
    snapshot = cache_model(offline, "owner/name", folder)
    before = digest(offline)
    half = export(zoo_cli, "hf://owner/name", tmp_path / "half", "--dtype", "fp16")
    config = json.loads((half / "config.json").read_text())
    assert config["source"]["kind"] == "hub" and config["source"]["name"] == "hf://owner/name"
    assert config["weights"]["dtype"] == "float16" and config["weights"]["left_out"] == ["generator", "discriminator"]
    code, _, err = zoo_cli("export", "hf://owner/name", snapshot)
    one_line(code, err)
    assert digest(offline) == before


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then released): a connection is refused at once."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_push_without_a_network_or_a_token_is_one_line_and_bounded(dcgan, tmp_path):
    """No token and no network (HF_ENDPOINT at a closed local port: the test never reaches the internet): one line
    naming where it could not reach, within the timeout (a hang or a retry loop fails)."""
    _, folder = dcgan
    endpoint = f"http://127.0.0.1:{closed_port()}"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))},
           "HF_ENDPOINT": endpoint, "HF_HOME": str(tmp_path / "hf-home"), "HF_HUB_CACHE": str(tmp_path / "hf-cache"),
           "HF_HUB_DISABLE_TELEMETRY": "1"}
    done = subprocess.run([sys.executable, "-m", "zoo", "push", str(folder), "owner/name"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"Error: zoo push owner/name: could not reach {endpoint} ("), done.stderr
    assert "HF_ENDPOINT" in done.stderr


@pytest.mark.parametrize("target", ["outside", "/dev/zero", "fifo"])
@pytest.mark.parametrize("name", ["model.safetensors", "config.json"])
def test_a_cached_file_linking_out_of_the_cache_is_refused(name, target, dcgan, offline, zoo_cli, tmp_path):
    """The cache's files are links to its blobs; one to a file elsewhere (before: read as the model), to /dev/zero
    or to a named pipe is one line, and nothing is sampled."""
    _, folder = dcgan
    snapshot = cache_model(offline, "owner/name", folder)
    if target == "outside":
        target = tmp_path / "elsewhere" / name
        target.parent.mkdir()
        target.write_bytes((folder / name).read_bytes())
    elif target == "fifo":
        target = tmp_path / "pipe"
        os.mkfifo(target)
    (snapshot / name).unlink()
    (snapshot / name).symlink_to(target)
    code, _, err = zoo_cli("sample", "hf://owner/name", "-n", "4", "--out", tmp_path / "s.png")
    one_line(code, err)
    assert f"hf://owner/name: the cached {name} is a link to {target}, outside the Hugging Face cache" in err, err
    assert not (tmp_path / "s.png").exists()
