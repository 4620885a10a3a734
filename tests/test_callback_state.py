"""Callbacks keep their state across a resume: ``state_dict()`` is saved in each checkpoint under the callback's
registered name and ``load_state_dict()`` gets it back before the first step of the resumed run."""

import json

import pytest
from runs import StopAt, same_weights

import zoo
from zoo.store.checkpoint import load_checkpoint


class RunningStats(zoo.Callback):
    """Counts steps and keeps a running mean of the loss; logs both every step."""

    def __init__(self):
        self.count, self.mean = 0, 0.0

    def on_step_end(self, trainer, step, logs):
        self.count += 1
        self.mean += (logs["loss_d"] - self.mean) / self.count
        trainer.record({"stats/count": self.count, "stats/mean": self.mean})

    def state_dict(self):
        return {"count": self.count, "mean": self.mean}

    def load_state_dict(self, state):
        self.count, self.mean = state["count"], state["mean"]


class StatsPlugin:
    @zoo.hookimpl
    def register_callbacks(self, register):
        register("running-stats", RunningStats, summary="a step counter and a running mean of loss_d")


@pytest.fixture
def stats(register_plugin, toy):
    register_plugin(StatsPlugin(), "stats")
    return toy


OPTIONS = ["--batch-size", "8", "--sample-every", "0", "--checkpoint-every", "0", "--log-every", "5", "--quiet"]


def figures(run, prefix):
    """The run's metrics records, keeping ``step`` and the keys starting with ``prefix``."""
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k == "step" or k.startswith(prefix)} for r in records
            if any(k.startswith(prefix) for k in r)]


def test_a_callback_with_state_resumes_as_if_never_stopped_from_the_cli(stats, zoo_cli, tmp_path, tiny_npz):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    common = ["--data", tiny_npz, "--callback", "running-stats", *OPTIONS]
    assert zoo_cli("train", stats, "--steps", "40", "--out", straight, *common)[0] == 0
    assert zoo_cli("train", stats, "--steps", "20", "--out", resumed, *common)[0] == 0
    assert load_checkpoint(resumed).json("callbacks")["running-stats"]["count"] == 20
    code, _, err = zoo_cli("train", "--resume", resumed, "--steps", "40", "--quiet")
    assert code == 0, err
    assert figures(resumed, "stats/") == figures(straight, "stats/")
    assert figures(resumed, "stats/")[-1]["stats/count"] == 40
    assert same_weights(resumed, straight)


def test_a_callback_with_state_resumes_as_if_never_stopped_from_python(stats, tmp_path, tiny_npz):
    options = dict(data=str(tiny_npz), batch_size=8, sample_every=0, checkpoint_every=0, log_every=5)
    zoo.train(stats, out=tmp_path / "straight", steps=40, callbacks=["running-stats"], **options)
    zoo.train(stats, out=tmp_path / "resumed", steps=20, callbacks=["running-stats"], **options)
    trainer = zoo.train(resume=tmp_path / "resumed", steps=40)
    assert [c.count for c in trainer.callbacks if isinstance(c, RunningStats)] == [40]
    assert figures(tmp_path / "resumed", "stats/") == figures(tmp_path / "straight", "stats/")
    assert same_weights(tmp_path / "resumed", tmp_path / "straight")


def test_the_metrics_log_averages_across_an_interruption(toy, zoo_cli, tmp_path, tiny_npz):
    """A checkpoint between two metrics records carries the figures summed so far: the first record after the
    resume averages the same steps as an uninterrupted run's."""
    from zoo.training.plan import plan_run
    from zoo.training.trainer import Trainer

    options = {"steps": 9, "batch_size": 8, "checkpoint_every": 4, "log_every": 3, "sample_every": 0}
    flags = ["--steps", "9", "--batch-size", "8", "--checkpoint-every", "4", "--log-every", "3", "--sample-every", "0"]
    assert zoo_cli("train", toy, "--data", tiny_npz, "--out", tmp_path / "straight", *flags, "--quiet")[0] == 0
    plan = plan_run(toy, out=tmp_path / "broken", data=str(tiny_npz), options=options)
    with pytest.raises(KeyboardInterrupt):
        Trainer.from_plan(plan, callbacks=[StopAt(5)]).fit()
    assert load_checkpoint(tmp_path / "broken").json("callbacks")["metrics"]["counts"]["loss_d"] == 1  # step 4
    assert zoo_cli("train", "--resume", tmp_path / "broken", "--quiet")[0] == 0
    assert figures(tmp_path / "broken", "loss") == figures(tmp_path / "straight", "loss")


def test_state_that_is_not_json_is_refused_in_one_line(stats, register_plugin, zoo_cli, tmp_path, tiny_npz):
    class Unsaveable(zoo.Callback):
        def state_dict(self):
            return {"model": object()}

    class Plugin:
        @zoo.hookimpl
        def register_callbacks(self, register):
            register("unsaveable", Unsaveable)

    register_plugin(Plugin(), "unsaveable")
    code, _, err = zoo_cli("train", stats, "--data", tiny_npz, "--steps", "2", "--out", tmp_path / "run",
                           "--callback", "unsaveable", *OPTIONS)
    assert code != 0
    assert "callback 'unsaveable': state_dict() must return JSON values" in err and "Traceback" not in err


class Seen(zoo.Callback):
    def __init__(self):
        self.saved, self.base_lrs, self.rates = [], None, None

    def on_train_start(self, trainer):
        self.base_lrs = trainer.base_lrs
        self.rates = {name: [g["lr"] for g in opt.param_groups] for name, opt in trainer.model.optimizers.items()}

    def on_checkpoint_saved(self, trainer, path):
        self.saved.append(path.name)


def test_base_rates_are_the_models_own_after_a_decayed_resume(toy, tmp_path, tiny_npz):
    """trainer.base_lrs are what configure_optimizers set, also when the restored optimisers hold decayed rates."""
    from zoo.training.plan import plan_run
    from zoo.training.trainer import Trainer

    options = dict(data=str(tiny_npz), batch_size=8, sample_every=0, checkpoint_every=0, lr_decay=1.0)
    zoo.train(toy, out=tmp_path / "run", steps=3, **options)
    seen = Seen()
    Trainer.from_plan(plan_run(resume=tmp_path / "run", options={"steps": 4}), callbacks=[seen]).fit()
    fresh = zoo.create_model(toy)
    expected = {name: [g["lr"] for g in opt.param_groups] for name, opt in fresh.configure_optimizers().items()}
    assert seen.base_lrs == expected
    assert all(r < b for name in expected for r, b in zip(seen.rates[name], expected[name]))  # restored: decayed


def test_on_checkpoint_saved_fires_for_best_too(toy, tmp_path, tiny_npz):
    seen = Seen()
    from zoo.training.plan import plan_run
    from zoo.training.trainer import Trainer

    plan = plan_run(toy, out=tmp_path / "run", data=str(tiny_npz),
                    options=dict(steps=4, batch_size=8, sample_every=0, checkpoint_every=0, eval_every=2, eval_samples=10))
    Trainer.from_plan(plan, callbacks=[seen]).fit()
    assert {"best.safetensors", "checkpoint.safetensors"} <= set(seen.saved)


def test_a_periodic_checkpoint_holds_the_state_of_callbacks_that_run_after_it(stats, zoo_cli, tmp_path, tiny_npz):
    """The checkpoint of step 5 is written once every callback has seen step 5, the run's own --callback
    included (it runs after zoo's checkpoints callback): a run killed at step 7 resumes as if never stopped."""
    from zoo.training.plan import plan_run
    from zoo.training.trainer import Trainer

    flags = ["--batch-size", "8", "--sample-every", "0", "--checkpoint-every", "5", "--log-every", "5"]
    common = ["--data", tiny_npz, "--callback", "running-stats", *flags, "--quiet"]
    assert zoo_cli("train", stats, "--steps", "10", "--out", tmp_path / "straight", *common)[0] == 0
    plan = plan_run(stats, out=tmp_path / "broken", data=str(tiny_npz), callbacks=["running-stats"],
                    options={"steps": 10, "batch_size": 8, "sample_every": 0, "checkpoint_every": 5, "log_every": 5})
    with pytest.raises(KeyboardInterrupt):
        Trainer.from_plan(plan, callbacks=[StopAt(7)]).fit()
    assert load_checkpoint(tmp_path / "broken").json("callbacks")["running-stats"]["count"] == 5
    assert zoo_cli("train", "--resume", tmp_path / "broken", "--quiet")[0] == 0
    assert figures(tmp_path / "broken", "stats/") == figures(tmp_path / "straight", "stats/")
    assert same_weights(tmp_path / "broken", tmp_path / "straight")


class EpochCounter(zoo.Callback):
    def __init__(self):
        self.epochs = 0

    def on_epoch_end(self, trainer, epoch):
        self.epochs += 1

    def state_dict(self):
        return {"epochs": self.epochs}

    def load_state_dict(self, state):
        self.epochs = state["epochs"]


def test_a_checkpoint_on_the_step_an_epoch_ends_holds_that_epoch(register_plugin, toy, tmp_path, tiny_npz):
    """58 training images in batches of 8: epochs end at steps 7 and 14; the checkpoint of step 7 is written after
    on_epoch_end, so a run stopped at 9 and resumed counts both epochs."""
    from zoo.training.plan import plan_run
    from zoo.training.trainer import Trainer

    class Plugin:
        @zoo.hookimpl
        def register_callbacks(self, register):
            register("epoch-counter", EpochCounter)

    register_plugin(Plugin(), "epochs")
    options = {"steps": 14, "batch_size": 8, "sample_every": 0, "checkpoint_every": 7}
    straight = zoo.train(toy, out=tmp_path / "straight", data=str(tiny_npz), callbacks=["epoch-counter"], **options)
    plan = plan_run(toy, out=tmp_path / "broken", data=str(tiny_npz), callbacks=["epoch-counter"], options=options)
    with pytest.raises(KeyboardInterrupt):
        Trainer.from_plan(plan, callbacks=[StopAt(9)]).fit()
    assert load_checkpoint(tmp_path / "broken").json("callbacks")["epoch-counter"] == {"epochs": 1}
    resumed = zoo.train(resume=tmp_path / "broken")
    counted = lambda trainer: [c.epochs for c in trainer.callbacks if isinstance(c, EpochCounter)]  # noqa: E731
    assert counted(resumed) == counted(straight) == [2]


def test_the_final_checkpoint_holds_the_last_evaluations_best_fid(toy, tmp_path, tiny_npz):
    zoo.train(toy, out=tmp_path / "run", data=str(tiny_npz), steps=4, batch_size=8, sample_every=0, eval_every=2,
              eval_samples=10)
    scored = [r["eval/fid"] for r in figures(tmp_path / "run", "eval/") if "eval/fid" in r]
    assert len(scored) == 2  # step 2 and the end
    assert load_checkpoint(tmp_path / "run").json("callbacks")["evaluation"]["best_fid"] == min(scored)


def test_a_callback_state_over_the_limit_is_refused_at_the_first_save_naming_it(stats, register_plugin, zoo_cli,
                                                                               tmp_path, tiny_npz):
    """A state_dict() of more than 1 MB of JSON (before: a 200 MB one failed in safetensors, "header too large",
    naming neither the callback nor the limit, and the run could not resume) is one line naming the callback; the
    checkpoint already written stays whole and resumes."""
    from zoo.training.resume import CALLBACK_STATE_LIMIT

    class Hoarder(zoo.Callback):
        def __init__(self):
            self.seen = []

        def on_step_end(self, trainer, step, logs):
            if step >= 3:
                self.seen = list(range(CALLBACK_STATE_LIMIT // 4))  # about 1.7 MB of JSON

        def state_dict(self):
            return {"seen": self.seen}

    class Plugin:
        @zoo.hookimpl
        def register_callbacks(self, register):
            register("hoarder", Hoarder)

    register_plugin(Plugin(), "hoarder")
    out = tmp_path / "run"
    code, _, err = zoo_cli("train", stats, "--data", tiny_npz, "--steps", "6", "--out", out, "--callback", "hoarder",
                           "--batch-size", "8", "--sample-every", "0", "--checkpoint-every", "2", "--quiet")
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "callback 'hoarder': state_dict() holds more than 1 MB of JSON" in err, err
    kept = load_checkpoint(out)
    assert kept.step == 2 and json.loads(kept.meta["callbacks"])["hoarder"] == {"seen": []}
    code, _, err = zoo_cli("train", "--resume", out, "--quiet")
    assert code == 1 and "callback 'hoarder'" in err, "the same callback is refused again, the checkpoint intact"
    assert load_checkpoint(out).step == 2
