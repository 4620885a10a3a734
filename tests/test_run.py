"""One home for a run: runs made from Python and from the CLI continue each other, a run keeps its callbacks,
and resuming survives what a crash leaves behind."""

import json
from pathlib import Path

import pytest
import torch
from fake_dist import write_plugin
from runs import same_weights

import zoo
import zoo.training.callback_specs
from zoo import datasets
from zoo.registry import plugin_host as plugins
from zoo.store.checkpoint import load_checkpoint
from zoo.training.trainer import Trainer, TrainConfig

OPTIONS = ["--batch-size", "8", "--sample-every", "3", "--checkpoint-every", "3", "--quiet"]

STEP_LOG = """
    import zoo

    class StepLog(zoo.Callback):
        def __init__(self, filename="steps.txt", every=1):
            self.filename, self.every = filename, every

        def on_step_end(self, trainer, step, logs):
            if step % self.every == 0:
                with open(trainer.out_dir / self.filename, "a") as fh:
                    fh.write(f"{step}\\n")

    @zoo.hookimpl
    def register_callbacks(register):
        register("step-log", StepLog, summary="append each step to steps.txt")
"""


@pytest.fixture
def straight(straight_run):
    """An uninterrupted 6-step run to compare resumed ones with."""
    return straight_run(OPTIONS)


def test_a_run_made_with_the_trainer_resumes_from_the_cli(toy, straight, zoo_cli, tmp_path, tiny_npz):
    data = datasets.split(datasets.load(str(tiny_npz)), "train")
    out = tmp_path / "python"
    torch.manual_seed(0)
    model = zoo.create_model(toy, data_shape=data.shape)
    Trainer(model, data, TrainConfig(steps=3, batch_size=8, sample_every=3, checkpoint_every=3), out).fit()
    record = json.loads((out / "config.json").read_text())
    assert record["data"]["source"] == str(tiny_npz) and record["data"]["part"] == "train"
    assert [c["name"] for c in record["callbacks"]] == zoo.training.callback_specs.default_callbacks()

    code, stdout, err = zoo_cli("train", "--resume", out, "--steps", "6", "--quiet")
    assert code == 0, err
    assert "trained toy-gan for 3 steps (step 3 -> 6)" in stdout
    assert load_checkpoint(out).step == 6 and same_weights(out, straight)


def test_a_cli_run_resumes_from_python(toy, straight, zoo_cli, tmp_path, tiny_npz):
    out = tmp_path / "cli"
    assert zoo_cli("train", toy, "--data", tiny_npz, "--steps", "3", "--out", out, *OPTIONS)[0] == 0
    trainer = zoo.train(resume=out, steps=6)
    assert (trainer.start_step, trainer.step) == (3, 6)
    assert same_weights(out, straight)
    steps = [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == sorted(set(steps)) and steps[-1] == 6


def test_zoo_train_from_python_writes_the_same_run_as_the_cli(toy, straight, tmp_path, tiny_npz):
    out = tmp_path / "api"
    zoo.train(toy, out=out, data=str(tiny_npz), steps=6, batch_size=8, sample_every=3, checkpoint_every=3)
    assert same_weights(out, straight)
    ours, theirs = (json.loads((p / "config.json").read_text()) for p in (out, straight))
    for key in ("model", "config", "train", "callbacks", "plugin"):
        assert ours[key] == theirs[key], key


def test_a_resumed_run_keeps_its_plugin_callbacks_and_adds_new_ones(site, toy, zoo_cli, tmp_path, tiny_npz):
    write_plugin(site, "zoo-steplog", "1.2", "zoo_steplog", STEP_LOG)
    plugins.reset()
    plugins.plugin_manager().register(__import__("toy").ToyPlugin(), name="toy")
    out = tmp_path / "run"
    code, _, err = zoo_cli("train", toy, "--data", tiny_npz, "--steps", "3", "--out", out, "--callback", "step-log", *OPTIONS)
    assert code == 0, err
    code, _, err = zoo_cli("train", "--resume", out, "--steps", "6", "--quiet")
    assert code == 0, err
    assert (out / "steps.txt").read_text().split() == ["1", "2", "3", "4", "5", "6"]
    record = json.loads((out / "config.json").read_text())
    entry = [c for c in record["callbacks"] if c["name"] == "step-log"]
    assert entry == [{"name": "step-log", "options": {}, "distribution": "zoo-steplog", "version": "1.2"}]


def test_callback_options_are_checked_recorded_and_restored(site, toy, zoo_cli, tmp_path, tiny_npz):
    write_plugin(site, "zoo-steplog", "1.2", "zoo_steplog", STEP_LOG)
    plugins.reset()
    plugins.plugin_manager().register(__import__("toy").ToyPlugin(), name="toy")
    out = tmp_path / "run"
    config = tmp_path / "c.toml"
    config.write_text('[callbacks.step-log]\nfilename = "even.txt"\n')
    code, _, err = zoo_cli("train", toy, "--data", tiny_npz, "--steps", "3", "--out", out, "--config", config,
                           "--callback", "step-log:every=2", *OPTIONS)
    assert code == 0, err
    record = json.loads((out / "config.json").read_text())
    assert [c["options"] for c in record["callbacks"] if c["name"] == "step-log"] == [{"filename": "even.txt", "every": 2}]
    assert zoo_cli("train", "--resume", out, "--steps", "6", "--quiet")[0] == 0
    assert (out / "even.txt").read_text().split() == ["2", "4", "6"]

    for option, message in [("every=often", "bad value 'often' for callback 'step-log' option 'every' (int)"),
                            ("colour=red", "unknown option 'colour' for callback 'step-log'; it takes: filename, every"),
                            ("every", "--callback step-log: expects key=value")]:
        code, _, err = zoo_cli("train", toy, "--callback", f"step-log:{option}", "--out", tmp_path / "x", "--quiet")
        assert code == 1 and message in err and not (tmp_path / "x").exists(), err


def test_resuming_without_a_callbacks_plugin_names_the_distribution(site, toy, zoo_cli, tmp_path, tiny_npz):
    write_plugin(site, "zoo-steplog", "1.2", "zoo_steplog", STEP_LOG)
    plugins.reset()
    plugins.plugin_manager().register(__import__("toy").ToyPlugin(), name="toy")
    out = tmp_path / "run"
    assert zoo_cli("train", toy, "--data", tiny_npz, "--steps", "3", "--out", out, "--callback", "step-log", *OPTIONS)[0] == 0
    (site / "zoo_steplog-1.2.dist-info" / "entry_points.txt").unlink()  # uninstalled
    plugins.reset()
    plugins.plugin_manager().register(__import__("toy").ToyPlugin(), name="toy")
    before = (out / "config.json").read_text()
    code, _, err = zoo_cli("train", "--resume", out, "--steps", "6", "--quiet")
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert "needs callback 'step-log', which no installed plugin provides; install zoo-steplog (version 1.2)" in err
    assert (out / "config.json").read_text() == before and load_checkpoint(out).step == 3


def test_an_unknown_callback_is_refused_before_anything_is_written(toy, zoo_cli, tmp_path):
    code, _, err = zoo_cli("train", toy, "--callback", "sampels", "--out", tmp_path / "run", "--quiet")
    assert code == 1 and err.startswith("Error: unknown callback 'sampels'; did you mean 'samples'? registered: "
                                        "checkpoints, evaluation, loss-plot, metrics, report, samples") and err.count("\n") == 1
    assert not (tmp_path / "run").exists()


def test_resume_survives_a_torn_metrics_line(toy, straight, zoo_cli, tmp_path, tiny_npz):
    out = tmp_path / "torn"
    assert zoo_cli("train", toy, "--data", tiny_npz, "--steps", "3", "--out", out, *OPTIONS)[0] == 0
    with open(out / "metrics.jsonl", "a") as fh:
        fh.write('{"step": 4, "loss_d": 0.6')  # a full disk mid-append
    code, _, err = zoo_cli("train", "--resume", out, "--steps", "6", "--quiet")
    assert code == 0, err
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records][-1] == 6 and same_weights(out, straight)


def test_a_run_killed_before_its_first_checkpoint_resumes_from_step_0(toy, straight, zoo_cli, tmp_path, tiny_npz):
    out = tmp_path / "early"
    assert zoo_cli("train", toy, "--data", tiny_npz, "--steps", "6", "--out", out, *OPTIONS)[0] == 0
    (out / "checkpoint.safetensors").unlink()  # as if killed before the first save
    code, stdout, err = zoo_cli("train", toy, "--data", tiny_npz, "--steps", "6", "--out", out, *OPTIONS)
    assert code == 1 and f"continue it with --resume {out}" in err
    code, stdout, err = zoo_cli("train", "--resume", out, "--quiet")
    assert code == 0 and "no checkpoint yet; training it from step 0" in err
    assert "trained toy-gan for 6 steps in" in stdout and same_weights(out, straight)


@pytest.mark.parametrize("args, message", [
    (["--batch-size", "4"], "--resume keeps the run's --batch-size; only --steps, --device"),
    (["--set", "width=8"], "cannot change the model"),
    (["--data", "fashion-mnist"], "this run trained on"),
])
def test_resume_refuses_changes_that_define_the_run(toy, zoo_cli, tmp_path, tiny_npz, args, message):
    out = tmp_path / "run"
    assert zoo_cli("train", toy, "--data", tiny_npz, "--steps", "3", "--out", out, *OPTIONS)[0] == 0
    code, _, err = zoo_cli("train", "--resume", out, "--steps", "6", "--quiet", *args)
    assert code == 1 and message in err and err.count("\n") == 1


def test_resume_of_a_folder_that_is_not_a_run(zoo_cli, tmp_path):
    code, _, err = zoo_cli("train", "--resume", tmp_path, "--quiet")
    assert code == 1 and err == f"Error: {tmp_path} is not a run folder (no config.json)\n"


def test_a_callback_that_draws_random_numbers_does_not_change_training(toy, straight, register_plugin, zoo_cli,
                                                                        tmp_path, tiny_npz):
    class Noisy(zoo.Callback):
        def on_step_end(self, trainer, step, logs):
            torch.rand(1000)  # e.g. a plugin's own sampling or augmentation preview

    class NoisyPlugin:
        @zoo.hookimpl
        def register_callbacks(self, register):
            register("noisy", Noisy, summary="draws from the global RNG at every step")

    register_plugin(NoisyPlugin(), "noisy")
    out = tmp_path / "noisy"
    code, _, err = zoo_cli("train", toy, "--data", tiny_npz, "--steps", "3", "--out", out, "--callback", "noisy", *OPTIONS)
    assert code == 0, err
    assert zoo_cli("train", "--resume", out, "--steps", "6", "--quiet")[0] == 0
    assert same_weights(out, straight)


def test_a_callback_drawing_random_numbers_before_the_checkpoint_leaves_resume_exact(toy, tmp_path, tiny_npz):
    """Each callback draws from its own fork: the RNG state a checkpoint saves is training's, whatever ran first."""
    from zoo.training.default_callbacks import Checkpointing

    class Noisy(zoo.Callback):
        def on_step_end(self, trainer, step, logs):
            torch.rand(1000)

        on_train_end = lambda self, trainer: torch.rand(1000)  # noqa: E731

    data = datasets.split(datasets.load(str(tiny_npz)), "train")

    def trainer(out, steps):
        torch.manual_seed(0)
        model = zoo.create_model(toy, data_shape=data.shape)
        config = TrainConfig(steps=steps, batch_size=8, checkpoint_every=2)
        return Trainer(model, data, config, out, callbacks=[Noisy(), Checkpointing()])

    trainer(tmp_path / "straight", 4).fit()
    trainer(tmp_path / "resumed", 2).fit()
    resumed = trainer(tmp_path / "resumed", 4)
    resumed.restore(load_checkpoint(tmp_path / "resumed"))
    resumed.fit()
    assert same_weights(tmp_path / "straight", tmp_path / "resumed")


def test_zoo_runs_lists_each_run_with_its_state(toy, register_plugin, zoo_cli, tmp_path, tiny_npz):
    from toy import ExplodingPlugin

    register_plugin(ExplodingPlugin(), "exploding")
    root = tmp_path / "runs"
    assert zoo_cli("train", toy, "--data", tiny_npz, "--steps", "4", "--out", root / "done", *OPTIONS)[0] == 0
    assert zoo_cli("train", "exploding", "--data", tiny_npz, "--steps", "8", "--out", root / "nan", *OPTIONS)[0] == 1
    assert zoo_cli("train", toy, "--data", tiny_npz, "--steps", "4", "--out", root / "cut", *OPTIONS)[0] == 0
    (root / "cut" / "status.json").unlink()  # as if killed at step 2: no session end was recorded
    zoo.training.plan.RunFolder(root / "cut").keep_metrics_until(2)
    (root / "broken").mkdir()
    (root / "broken" / "config.json").write_text("{not json")
    code, out, err = zoo_cli("runs", root, "--json")
    assert code == 0, err
    rows = {Path(r["run"]).name: r for r in json.loads(out)}
    assert rows["done"]["status"] == "finished" and rows["done"]["step"] == 4 and "loss_d" in rows["done"]["losses"]
    assert rows["nan"]["status"] == "failed" and "failed at step 5: loss_d is nan" in rows["nan"]["error"]
    assert rows["cut"]["status"] == "interrupted"
    assert rows["broken"]["status"] == "unreadable"
    with zoo.training.plan.RunFolder(root / "cut").lock():
        assert {Path(r["run"]).name: r for r in json.loads(zoo_cli("runs", root, "--json")[1])}["cut"]["status"] == "running"
    code, table, _ = zoo_cli("runs", root)
    assert code == 0 and "STATUS" in table and "finished" in table and "failed (failed at step 5: loss_d is nan" in table


def test_zoo_runs_compare_draws_and_tabulates_the_change(toy, zoo_cli, tmp_path, tiny_npz):
    for name, loss in (("a", "non-saturating"), ("b", "hinge")):
        code, _, err = zoo_cli("train", toy, "--data", tiny_npz, "--steps", "4", "--set", f"loss={loss}",
                               "--out", tmp_path / name, *OPTIONS)
        assert code == 0, err
    code, out, err = zoo_cli("runs", "compare", tmp_path / "a", tmp_path / "b", "--out", tmp_path / "cmp.png")
    assert code == 0, err
    header, *rows = out.splitlines()
    assert header.split() == ["FIGURE", "a", "b", "b", "-", "a"]
    steps = next(r for r in rows if r.startswith("steps")).split()
    assert steps[1:4] == ["4", "4", "+0"]
    assert any(r.startswith("loss_d") for r in rows) and (tmp_path / "cmp.png").stat().st_size > 5000
    code, out, _ = zoo_cli("runs", "compare", tmp_path / "a", tmp_path / "b", "--json", "--out", tmp_path / "c2.png")
    assert json.loads(out)["figures"]["steps"] == [4, 4]
    code, _, err = zoo_cli("runs", "compare", tmp_path / "a")
    assert code == 1 and "two runs or more" in err
    from zoo.cli.inspect_commands import format_table
    from zoo.outputs.comparison import compare_runs

    comparison = compare_runs([tmp_path / "a", tmp_path / "b"])  # from Python: what the command prints
    assert comparison.labels == ["a", "b"] and comparison.figures["steps"] == [4, 4]
    assert format_table(*reversed(comparison.table())) + "\n" == zoo_cli("runs", "compare", tmp_path / "a",
                                                                          tmp_path / "b", "--out", tmp_path / "c3.png")[1]


def test_evaluations_made_differently_are_not_compared(toy, zoo_cli, tmp_path, tiny_npz):
    for name in ("a", "b"):
        code, _, err = zoo_cli("train", toy, "--data", tiny_npz, "--steps", "2", "--out", tmp_path / name, *OPTIONS)
        assert code == 0, err
    assert zoo_cli("eval", tmp_path / "a", "-n", "20")[0] == 0 and zoo_cli("eval", tmp_path / "b", "-n", "30")[0] == 0
    provenance = json.loads((tmp_path / "a" / "eval.json").read_text())["info"]["provenance"]
    assert provenance["n"] == 20 and provenance["features"] == "classifier" and len(provenance["data_sha256"]) == 64
    assert provenance["features_sha256"] and provenance["split"] == "train/heldout" and provenance["zoo"]
    code, out, err = zoo_cli("runs", "compare", tmp_path / "a", tmp_path / "b", "--out", tmp_path / "c.png")
    assert code == 1 and "cannot be compared: their sample counts differ (20 vs 30)" in err and not out
    code, out, err = zoo_cli("runs", "compare", tmp_path / "a", tmp_path / "b", "--no-eval", "--out", tmp_path / "c.png")
    assert code == 0 and "fid" not in out and "loss_d" in out
    assert zoo_cli("eval", tmp_path / "b", "-n", "20", "--seed", "3")[0] == 0  # another seed: comparable
    code, out, err = zoo_cli("runs", "compare", tmp_path / "a", tmp_path / "b", "--out", tmp_path / "c.png")
    assert code == 0, err
    assert any(row.startswith("fid ") for row in out.splitlines()) and any(r.startswith("fid_std") for r in out.splitlines())



def test_a_callback_of_a_missing_zoo_plugin_names_the_package(toy, zoo_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("ZOO_LOAD_PLUGINS", "")  # as if zoo-tensorboard were not installed
    zoo.registry.plugin_host.reset()
    zoo.registry.plugin_host.plugin_manager().register(__import__("toy").ToyPlugin(), name="toy")
    code, _, err = zoo_cli("train", toy, "--callback", "tensorboard", "--out", tmp_path / "run", "--quiet")
    assert code == 1 and err.count("\n") == 1
    assert "callback 'tensorboard' comes with zoo-tensorboard (also the extra zoo-core[tensorboard]), which is not " \
           "installed: pip install zoo-tensorboard" in err


def test_a_run_of_the_first_wave_resumes(toy, straight, zoo_cli, tmp_path, tiny_npz):
    """zoo 0.1 wrote no record format, no plugin entry, callbacks as extra names only, and configs without the
    keys added since (a GAN's penalty): such a run still resumes, exactly."""
    from safetensors.torch import load_file, save_file

    out = tmp_path / "old"
    assert zoo_cli("train", toy, "--data", tiny_npz, "--steps", "3", "--out", out, *OPTIONS)[0] == 0
    record = json.loads((out / "config.json").read_text())
    for key in ("format", "plugin"):
        record.pop(key)
    record["callbacks"] = []
    record["config"].pop("penalty")
    record["data"].pop("part")
    (out / "config.json").write_text(json.dumps(record))
    ckpt = load_checkpoint(out)
    meta = dict(ckpt.meta, config=json.dumps({k: v for k, v in json.loads(ckpt.meta["config"]).items() if k != "penalty"}))
    save_file(load_file(str(ckpt.path)), str(ckpt.path), metadata=meta)
    code, _, err = zoo_cli("train", "--resume", out, "--steps", "6", "--quiet")
    assert code == 0, err
    assert same_weights(out, straight)


def test_one_command_gathers_each_kind_once(toy, zoo_cli, tmp_path, tiny_npz, monkeypatch):
    """The plugins' hooks run once per kind per command, however often the run looks its model, losses and
    callbacks up (they are gathered again only when the registered plugins change)."""
    calls = {}
    real = plugins.call_hook

    def counting(hook_name, *args, **kwargs):
        calls[hook_name] = calls.get(hook_name, 0) + 1
        return real(hook_name, *args, **kwargs)

    monkeypatch.setattr(plugins, "call_hook", counting)
    code, _, err = zoo_cli("train", toy, "--data", tiny_npz, "--steps", "2", "--out", tmp_path / "run", *OPTIONS)
    assert code == 0, err
    assert calls and max(calls.values()) == 1, calls
