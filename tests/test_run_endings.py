"""How a run ends other than by finishing: a callback stopping it early (``trainer.stop``), a first SIGINT/SIGTERM
(the step in progress checkpointed, then exit 130), numbers that stop being finite (the last finite checkpoint
kept, and how to go on with a lower rate), a wall-clock budget (``--minutes``), and a time-based checkpoint."""

import json
import os
import signal

import pytest
import torch
from runs import same_weights

import zoo
from zoo.callbacks import Callback
from zoo.store.checkpoint import load_checkpoint
from zoo.training.plan import plan_run
from zoo.training.trainer import Trainer

QUIET = dict(batch_size=8, sample_every=0, checkpoint_every=0, log_every=1)


def run(out, callbacks=(), resume=None, **options):
    """Train the toy GAN on the bundled data with ``callbacks`` added, as zoo train does."""
    plan = plan_run(None if resume else "toy-gan", resume=resume, out=None if resume else out,
                    options={**({} if resume else QUIET), **options})
    trainer = Trainer.from_plan(plan, list(callbacks))
    trainer.fit()
    return trainer


class StopAt(Callback):
    def __init__(self, step, reason="patience ran out"):
        self.at, self.reason = step, reason

    def on_step_end(self, trainer, step, logs):
        if step == self.at:
            trainer.stop(self.reason)


class SignalAt(Callback):
    """Sends this process ``times`` SIGTERMs at a step, as a scheduler preempting the machine would."""

    def __init__(self, step: int = 1, times: int = 1):
        self.at, self.times = step, times

    def on_step_end(self, trainer, step, logs):
        if step == self.at:
            for _ in range(self.times):
                os.kill(os.getpid(), signal.SIGTERM)


def test_a_callback_stops_the_run_early_and_it_ends_normally(toy, zoo_cli, tmp_path):
    out = tmp_path / "run"
    trainer = run(out, [StopAt(3)], steps=10)
    assert trainer.step == 3 and load_checkpoint(out).step == 3
    assert json.loads((out / "status.json").read_text()) == {"status": "stopped", "step": 3,
                                                             "error": "patience ran out"}
    assert (out / "samples" / "step-000003.png").exists()  # the final grid of the step it stopped at
    assert [r["step"] for r in map(json.loads, (out / "metrics.jsonl").read_text().splitlines())][-1] == 3
    assert "stopped early at step 3 of 10: patience ran out" in (out / "report.html").read_text()
    code, _, err = zoo_cli("train", "--resume", out, "--quiet")
    assert code == 1 and "stopped early at step 3: patience ran out" in err and "--steps" in err
    code, _, err = zoo_cli("train", "--resume", out, "--steps", "5", "--quiet")  # asked for: it trains on
    assert code == 0, err
    assert load_checkpoint(out).step == 5 and json.loads((out / "status.json").read_text())["status"] == "finished"


def test_a_first_sigterm_checkpoints_the_step_and_the_run_resumes_exactly(toy, zoo_cli, tmp_path):
    run(tmp_path / "straight", steps=6)
    out = tmp_path / "stopped"
    with pytest.raises(KeyboardInterrupt):
        run(out, [SignalAt(3)], steps=6)
    assert load_checkpoint(out).step == 3  # no interval checkpoint was due: this one is the interrupt's own
    assert json.loads((out / "status.json").read_text())["status"] == "interrupted"
    code, _, err = zoo_cli("train", "--resume", out, "--quiet")
    assert code == 0, err
    assert same_weights(tmp_path / "straight", out)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handlers are put back


def test_zoo_train_says_the_interrupt_checkpoint_holds_the_step_reached(toy, zoo_cli, tmp_path, register_plugin):
    class Plugin:
        @zoo.hookimpl
        def register_callbacks(self, register):
            register("sigterm-at", SignalAt, summary="SIGTERM at a step")

    register_plugin(Plugin(), "sigterm-at")
    out = tmp_path / "run"
    code, _, err = zoo_cli("train", toy, "--out", out, "--steps", "20", "--batch-size", "8", "--quiet",
                           "--checkpoint-every", "500", "--callback", "sigterm-at:step=4")
    assert code == 130 and err == (f"Interrupted at step 4 of 20; its checkpoint holds step 4. Continue with: "
                                   f"zoo train --resume {out}\n")


def test_a_second_signal_stops_at_once_without_a_checkpoint(toy, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        run(out, [SignalAt(3, times=2)], steps=6)
    assert not (out / "checkpoint.safetensors").exists()
    assert json.loads((out / "status.json").read_text())["status"] == "interrupted"


def test_checkpoint_minutes_writes_checkpoints_between_the_intervals(toy, tmp_path):
    saved = []

    class Saved(Callback):
        def on_checkpoint_saved(self, trainer, path):
            saved.append(trainer.step)

    run(tmp_path / "run", [Saved()], steps=4, checkpoint_minutes=1e-9)
    assert saved == [1, 2, 3, 4]  # every step is overdue; the last one's is the final checkpoint
    saved.clear()
    run(tmp_path / "off", [Saved()], steps=4, checkpoint_minutes=0)
    assert saved == [4]


class Poison(Callback):
    """Sets a weight to NaN after a step, while the loss it reports stays finite."""

    def on_step_end(self, trainer, step, logs):
        if step == 3:
            with torch.no_grad():
                next(trainer.model.parameters()).view(-1)[0] = float("nan")


def test_non_finite_weights_are_never_checkpointed(toy, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(zoo.TrainingError, match=r"failed at step 3: .* is not finite; the last finite checkpoint "
                                                r"\(step 2\) is kept: resume it with a lower learning rate"):
        run(out, [Poison()], steps=6, checkpoint_every=1)
    assert load_checkpoint(out).step == 2
    status = json.loads((out / "status.json").read_text())
    assert status["status"] == "failed" and status["error"].startswith("failed at step 3")


def test_a_run_resumes_with_a_lower_learning_rate_and_nothing_else_changed(toy, zoo_cli, tmp_path):
    out = tmp_path / "run"
    run(out, steps=2)
    code, _, err = zoo_cli("train", "--resume", out, "--steps", "3", "--set", "width=8", "--quiet")
    assert code == 1 and "only its learning rates" in err
    trainer = run(None, resume=out, steps=4)  # unchanged: the rate it had
    assert trainer.model.optimizers["generator"].param_groups[0]["lr"] == 2e-4
    plan = plan_run(None, resume=out, options={"steps": 6}, model_options={"lr_g": 1e-5})
    trainer = Trainer.from_plan(plan)
    assert trainer.model.optimizers["generator"].param_groups[0]["lr"] == 1e-5
    assert trainer.model.optimizers["discriminator"].param_groups[0]["lr"] == 2e-4
    trainer.fit()
    assert json.loads((out / "config.json").read_text())["config"]["lr_g"] == 1e-5


def test_a_minutes_budget_becomes_recorded_steps_that_repeat_the_run_exactly(toy, tmp_path):
    budgeted = run(tmp_path / "budget", minutes=0.05)
    record = json.loads((tmp_path / "budget" / "config.json").read_text())
    steps = record["budget"]["steps"]
    assert record["budget"]["minutes"] == 0.05 and record["budget"]["images_per_s"] > 0
    assert record["train"]["steps"] == steps == budgeted.step == load_checkpoint(tmp_path / "budget").step
    run(tmp_path / "steps", steps=steps)
    assert same_weights(tmp_path / "budget", tmp_path / "steps")


def test_a_minutes_budget_times_warm_up_steps_numbered_as_the_runs_first(toy, tmp_path, monkeypatch):
    """A step may do more on some numbers (dcgan's R1 penalty every 4th step): timed all as step 0, the warm-up
    priced every step at the dearest and a two-minute dcgan trained 100 seconds."""
    seen = []
    trainer = Trainer.from_plan(plan_run("toy-gan", out=tmp_path / "run", options={**QUIET, "minutes": 0.05}))
    step = trainer.model.training_step
    monkeypatch.setattr(trainer.model, "training_step", lambda batch, n: (seen.append(n), step(batch, n))[1])
    trainer.fit()
    warm_up = len(seen) - trainer.step
    assert warm_up >= 3 and seen == [*range(warm_up), *range(trainer.step)]


def test_minutes_and_steps_are_one_setting(toy, zoo_cli, tmp_path):
    code, _, err = zoo_cli("train", toy, "--out", tmp_path / "run", "--steps", "3", "--minutes", "1", "--quiet")
    assert code == 1 and "give one of --steps, --epochs and --minutes" in err and not (tmp_path / "run").exists()


def test_fp16_overflow_steps_are_counted_in_the_metrics_and_the_report(toy, tmp_path):
    out = tmp_path / "run"
    trainer = run(out, steps=3, precision="fp16")
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    counted = [r["overflow_steps"] for r in records if "overflow_steps" in r]
    assert counted and counted[-1] == trainer.optimizer_steps.overflows
    assert "fp16 overflow step" in (out / "report.html").read_text()
    assert load_checkpoint(out).json("trainer")["optimizer_steps"]["overflows"] == trainer.optimizer_steps.overflows


def test_a_budgeted_run_resumes_to_its_recorded_steps_not_a_new_budget(toy, tmp_path):
    out = tmp_path / "budget"
    with pytest.raises(KeyboardInterrupt):
        run(out, [SignalAt(3)], minutes=0.02)
    steps = json.loads((out / "config.json").read_text())["budget"]["steps"]
    assert load_checkpoint(out).step == 3 < steps
    assert run(None, resume=out).step == steps
    assert json.loads((out / "config.json").read_text())["budget"]["steps"] == steps  # the record keeps it
    run(tmp_path / "steps", steps=steps)
    assert same_weights(tmp_path / "steps", out)
