"""zoo export: a model folder that samples exactly as its run does, holds the weights alone, never writes to the
run, is read through JSON and safetensors only, and carries a model card the Hub reads."""

import hashlib
import json
import pickle
import sys

import pytest
import torch
import yaml
from markdown_it import MarkdownIt
from safetensors import safe_open

import zoo
from zoo.store.model_folder import FILES

ARCHITECTURES = zoo.list_models()
SMALL = {"dcgan": ["width=8", "latent_dim=8"], "wgan-gp": ["width=8"], "cgan": ["width=8"]}


def train(zoo_cli, model, data, out, *extra, small=True):
    sets = [arg for pair in SMALL.get(model, []) if small for arg in ("--set", pair)]
    code, _, err = zoo_cli("train", model, "--data", data, "--steps", "3", "--batch-size", "8", "--quiet",
                           "--sample-every", "0", "--out", out, *sets, *extra)
    assert code == 0, err
    return out


def digest(folder):
    """Every file of ``folder`` and its sha256: what 'never written to' compares."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def export(zoo_cli, source, out, *options):
    code, out_text, err = zoo_cli("export", source, out, *options)
    assert code == 0, err
    return out


@pytest.mark.parametrize("model", ARCHITECTURES)
def test_a_model_folder_samples_exactly_as_its_run(model, zoo_cli, tiny_npz, tmp_path):
    run = train(zoo_cli, model, tiny_npz, tmp_path / "run")
    before = digest(run)
    folder = export(zoo_cli, run, tmp_path / "out")
    assert digest(run) == before, "export wrote to the run"
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES)
    for source, png in ((run, "a.png"), (folder, "b.png")):
        code, _, err = zoo_cli("sample", source, "-n", "16", "--seed", "0", "--out", tmp_path / png)
        assert code == 0, err
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert torch.equal(zoo.load_model(run).sample(4, seed=3), zoo.load_model(folder).sample(4, seed=3))
    if zoo.load_model(folder).can_reconstruct:
        for source, png in ((run, "ra.png"), (folder, "rb.png")):
            code, _, err = zoo_cli("reconstruct", source, "--data", tiny_npz, "-n", "8", "--out", tmp_path / png)
            assert code == 0, err
        assert (tmp_path / "ra.png").read_bytes() == (tmp_path / "rb.png").read_bytes()
    code, out, err = zoo_cli("info", folder)
    assert code == 0 and f"a model folder of {model}, step 3" in out, err
    assert digest(run) == before


def test_the_folder_holds_the_sampling_weights_and_where_they_came_from(zoo_cli, tiny_npz, tmp_path):
    run = train(zoo_cli, "dcgan", tiny_npz, tmp_path / "run")
    folder = export(zoo_cli, run, tmp_path / "out")
    config = json.loads((folder / "config.json").read_text())
    assert config["format"] == "zoo-model/1" and config["model"] == "dcgan"
    assert config["config"]["width"] == 8 and config["data_shape"] == [1, 28, 28]
    assert config["plugin"]["distribution"] == "zoo-dcgan" and config["zoo_version"] == zoo.__version__
    assert config["weights"] == {"file": "model.safetensors", "dtype": "float32", "networks": ["generator_ema"],
                                 "left_out": ["generator", "discriminator"]}
    assert config["source"]["kind"] == "run" and config["source"]["name"] == "run" and config["source"]["step"] == 3
    assert config["data"]["dataset"] == "tiny.npz", "a local path is cut to its name: a pushed folder publishes none"
    with safe_open(folder / "model.safetensors", "pt") as fh:
        keys, meta = list(fh.keys()), fh.metadata()
    assert keys and all(k.startswith("generator_ema.") for k in keys)
    assert meta == {"format": "pt", "zoo": "zoo-model/1"}
    code, _, err = zoo_cli("sample", run, "--out", folder / "model.safetensors", "--force")
    assert code == 1 and "never overwritten" in err


def test_the_default_dcgan_folder_is_under_a_third_of_its_checkpoint(zoo_cli, tiny_npz, tmp_path, capsys):
    run = train(zoo_cli, "dcgan", tiny_npz, tmp_path / "run", small=False)
    checkpoint = (run / "checkpoint.safetensors").stat().st_size
    sizes = {}
    for options in ((), ("--dtype", "fp16"), ("--weights", "all"), ("--weights", "all", "--dtype", "bf16")):
        folder = export(zoo_cli, run, tmp_path / "-".join(("out",) + options), *options)
        sizes[" ".join(options) or "default"] = (sum(p.stat().st_size for p in folder.iterdir()),
                                                 (folder / "model.safetensors").stat().st_size)
    with capsys.disabled():
        print(f"\ndefault dcgan: checkpoint {checkpoint:,} bytes; exported folder (total, model.safetensors): "
              + "; ".join(f"{k}: {t:,}, {w:,} ({t / checkpoint:.1%})" for k, (t, w) in sizes.items()))
    assert sizes["default"][0] < checkpoint / 3
    assert sizes["--dtype fp16"][1] < 0.51 * sizes["default"][1]
    assert sizes["--weights all"][1] > 2 * sizes["default"][1]  # generator and discriminator too
    assert sizes["--weights all --dtype bf16"][1] < 0.51 * sizes["--weights all"][1]


def test_eval_scores_a_model_folder_without_writing_to_it(zoo_cli, tiny_npz, tmp_path, tiny_eval_data):
    run = train(zoo_cli, "dcgan", tiny_eval_data, tmp_path / "run")
    folder = export(zoo_cli, run, tmp_path / "out")
    before = digest(folder)
    code, out, err = zoo_cli("eval", folder, "-n", "10", "--data", tiny_eval_data)
    assert "fid" in out
    assert digest(folder) == before, "zoo eval wrote into the model folder"
    assert code == 0, err


def test_the_weights_file_stands_for_its_folder(zoo_cli, tiny_npz, tmp_path):
    run = train(zoo_cli, "dcgan", tiny_npz, tmp_path / "run")
    folder = export(zoo_cli, run, tmp_path / "out")
    a, b = zoo.load_model(folder / "model.safetensors"), zoo.load_model(folder)
    assert torch.equal(a.sample(2, seed=0), b.sample(2, seed=0))


def test_half_precision_folders_sample_nearly_alike(zoo_cli, tiny_npz, tmp_path):
    run = train(zoo_cli, "dcgan", tiny_npz, tmp_path / "run")
    for dtype in ("fp16", "bf16"):
        folder = export(zoo_cli, run, tmp_path / dtype, "--dtype", dtype)
        config = json.loads((folder / "config.json").read_text())
        assert config["weights"]["dtype"] == {"fp16": "float16", "bf16": "bfloat16"}[dtype]
        a, b = zoo.load_model(run).sample(8, seed=0), zoo.load_model(folder).sample(8, seed=0)
        assert (a - b).abs().max() < 0.1


def test_weights_all_keeps_every_network_and_a_re_export_keeps_what_was_left_out(zoo_cli, tiny_npz, tmp_path):
    run = train(zoo_cli, "dcgan", tiny_npz, tmp_path / "run")
    full = export(zoo_cli, run, tmp_path / "full", "--weights", "all")
    assert json.loads((full / "config.json").read_text())["weights"]["left_out"] == []
    loaded, trained = zoo.load_model(full), zoo.load_model(run)
    for key, value in trained.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[key]), key
    small = export(zoo_cli, run, tmp_path / "small")
    again = export(zoo_cli, small, tmp_path / "again", "--weights", "all", "--dtype", "fp16")
    config = json.loads((again / "config.json").read_text())
    assert config["weights"]["left_out"] == ["generator", "discriminator"], "never publish weights it never had"
    assert config["source"]["kind"] == "model folder" and config["source"]["name"] == "small"


def test_the_destination_is_new_or_empty_and_never_inside_the_source(zoo_cli, tiny_npz, tmp_path):
    run = train(zoo_cli, "dcgan", tiny_npz, tmp_path / "run")
    before = digest(run)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("mine")
    for out, says in ((tmp_path / "full", "is not an empty folder"), (run, "is not an empty folder"),
                      (run / "export", "is inside"), (tmp_path / "full" / "x" / "y", "is a file, not a folder")):
        code, _, err = zoo_cli("export", run, out)
        assert code == 1 and says in err and err.count("\n") == 1, err
    assert (tmp_path / "full" / "x").read_text() == "mine" and digest(run) == before
    (tmp_path / "empty").mkdir()
    export(zoo_cli, run, tmp_path / "empty")
    assert not list(tmp_path.glob(".*.export")), "no staging folder left behind"


OPENED: dict = {"watching": False, "paths": []}


def _audit(event, args):
    if OPENED["watching"] and event == "open" and args:
        OPENED["paths"].append(str(args[0]))


sys.addaudithook(_audit)  # audit hooks stay for the process; this one records only while a test watches


class MakesMarker:
    """Unpickling this creates a file: proof that something unpickled it."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_pickles_in_a_model_folder_are_never_opened(zoo_cli, tiny_npz, tmp_path, monkeypatch):
    run = train(zoo_cli, "dcgan", tiny_npz, tmp_path / "run")
    folder = export(zoo_cli, run, tmp_path / "out")
    marker = tmp_path / "unpickled"
    for name in ("model.pkl", "pytorch_model.bin", "model.pt", "config.pkl"):
        (folder / name).write_bytes(pickle.dumps(MakesMarker(marker)))

    def refuse(*args, **kwargs):
        raise AssertionError("a pickle reader was called")

    for target in ("pickle.load", "pickle.loads", "torch.load"):
        monkeypatch.setattr(target, refuse)
    OPENED["paths"].clear()
    OPENED["watching"] = True
    try:
        code, _, err = zoo_cli("sample", folder, "-n", "4", "--out", tmp_path / "s.png")
        assert code == 0, err
        code, _, err = zoo_cli("info", folder, "--json")
        assert code == 0, err
        zoo.load_model(folder)
    finally:
        OPENED["watching"] = False
    assert not marker.exists()
    assert any(p.endswith("config.json") for p in OPENED["paths"]), "the audit hook saw the files zoo reads"
    assert not [p for p in OPENED["paths"] if p.endswith((".pkl", ".bin", ".pt"))], OPENED["paths"]


def test_the_model_card_is_markdown_with_yaml_front_matter(zoo_cli, tiny_npz, tmp_path):
    run = train(zoo_cli, "cgan", tiny_npz, tmp_path / "run")
    report = {"model": {"n": 500, "fid": 41.234, "kid": 12.5, "precision": 0.61, "recall": 0.402, "shares": [0.5, 0.5]},
              "floor": {"n": 6, "fid": 3.21, "kid": 0.4, "precision": 0.7, "recall": 0.69},
              "info": {"data": "tiny", "train_images": 58, "heldout_images": 6, "features": "classifier", "seed": 0,
                       "provenance": {"features": "classifier", "features_sha256": "ab" * 32, "data": "tiny",
                                      "data_sha256": "cd" * 32, "split": "train/heldout", "n": 500, "seed": 0,
                                      "zoo": zoo.__version__}}}
    (run / "eval.json").write_text(json.dumps(report))
    folder = export(zoo_cli, run, tmp_path / "out")
    card = (folder / "README.md").read_text()
    _, front, body = card.split("---\n", 2)
    meta = yaml.safe_load(front)
    assert meta["library_name"] == "zoo" and meta["pipeline_tag"] == "unconditional-image-generation"
    assert {"zoo", "cgan", "class-conditional"} <= set(meta["tags"])
    html = MarkdownIt("commonmark").enable("table").render(body)
    assert '<img src="samples.png"' in html
    assert "<td>fid</td>" in html and ">41.23</td>" in html and ">3.210</td>" in html
    assert "500 samples" in html and "classifier" in html and "floor" in html and "abababababababab" in html
    assert "pip install 'zoo-core[hub]' zoo-cgan\nzoo sample hf://OWNER/NAME -n 64 --out grid.png" in html


def test_a_damaged_evaluation_is_left_out_of_the_card_in_one_line(zoo_cli, tiny_npz, tmp_path):
    run = train(zoo_cli, "dcgan", tiny_npz, tmp_path / "run")
    (run / "eval.json").write_text('{"model": ')
    code, _, err = zoo_cli("export", run, tmp_path / "out")
    assert code == 0, err
    assert err == f"zoo: {run / 'eval.json'} is not a readable evaluation; the card says the model is not evaluated\n"
    assert "not evaluated" in (tmp_path / "out" / "README.md").read_text().lower()


def test_the_card_escapes_what_a_run_named_and_knows_hub_datasets():
    from zoo.outputs.model_card import render

    config = {"model": "cgan", "config": {"loss": "<b>x</b>", "width": 8}, "data_shape": [1, 28, 28],
              "num_classes": 3, "classes": ["<script>alert(1)</script>", "a | b", "*c*"],
              "plugin": {"distribution": "zoo-cgan\n```\nrm -rf /", "version": "0.1"}, "zoo_version": "0.5.0",
              "weights": {"dtype": "float32", "networks": ["generator"], "left_out": ["discriminator"]},
              "data": {"dataset": "mnist"}, "source": {"step": 5}}
    card = render(config, summary="A [link](javascript:x)", conditional=True)
    _, front, body = card.split("---\n", 2)
    assert yaml.safe_load(front)["datasets"] == ["ylecun/mnist"]
    html = MarkdownIt("commonmark").enable("table").render(body)
    assert "<script>" not in html and "<b>" not in html and "&lt;script&gt;" in html
    assert "<em>" not in html and 'href="javascript' not in html
    commands = html.split('<code class="language-bash">')[1].split("</code>")[0]
    assert "rm -rf" not in commands, "a strange distribution name is never a command"
