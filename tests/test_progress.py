"""zoo train's progress (zoo.cli.progress): the line that tells a slow machine how long the run will take, and
the tags of what a step saved, shown on that step alone."""

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from zoo.cli import progress as progress_module
from zoo.cli.progress import Progress


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fake_trainer(total_steps: int, **config) -> SimpleNamespace:
    trainer = SimpleNamespace(step=0, total_steps=total_steps, model=SimpleNamespace(name="dcgan", num_classes=None),
                              device="cpu", images_per_second=100.0, elapsed=0.0, history=[],
                              folder=SimpleNamespace(checkpoint=Path("run/checkpoint.safetensors")),
                              config=SimpleNamespace(sample_every=500, checkpoint_every=500, minutes=0.0, **config))
    trainer.is_due = lambda step, every: every > 0 and step % every == 0 and step != trainer.total_steps
    return trainer


def run_steps(progress, trainer, clock, steps: int, seconds_a_step: float) -> None:
    for _ in range(steps):
        clock.now += seconds_a_step
        trainer.step += 1
        trainer.elapsed += seconds_a_step
        progress.on_step_end(trainer, trainer.step, {"loss": 1.0})


@pytest.mark.parametrize("interactive", [True, False])
def test_a_run_that_would_take_over_15_minutes_says_so_once_with_the_steps_that_fit_5(monkeypatch, capsys,
                                                                                        interactive):
    clock = Clock()
    monkeypatch.setattr(progress_module.time, "perf_counter", clock)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 1)
    trainer, progress = fake_trainer(4000), Progress(interactive=interactive, seconds=1e9)
    progress.on_train_start(trainer)
    run_steps(progress, trainer, clock, 25, 0.5)  # timed from the first step's end, for 10 s
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "minutes" in line]
    assert len(lines) == 1, err
    assert lines[0].endswith("zoo: at 0.5 s a step here, this run's 4,000 steps take about 33 minutes; --steps 600 "
                             "or --minutes 5 fits about 5 minutes")
    run_steps(progress, trainer, clock, 40, 0.5)
    assert "minutes" not in capsys.readouterr().err  # said once


def test_a_run_within_15_minutes_or_on_a_minutes_budget_says_nothing_of_it(monkeypatch, capsys):
    clock = Clock()
    monkeypatch.setattr(progress_module.time, "perf_counter", clock)
    budget = fake_trainer(4000)
    budget.config.minutes = 40.0  # asked for: the length is the user's
    for trainer, seconds_a_step in ((fake_trainer(4000), 0.2), (budget, 0.5)):  # 0.2 s: 13.3 minutes in all
        progress = Progress(interactive=True, seconds=1e9)
        progress.on_train_start(trainer)
        run_steps(progress, trainer, clock, 100, seconds_a_step)
        assert "minutes" not in capsys.readouterr().err


def test_the_tags_of_a_save_stay_on_the_line_of_its_step(monkeypatch, capsys):
    clock = Clock()
    monkeypatch.setattr(progress_module.time, "perf_counter", clock)
    trainer, progress = fake_trainer(1200), Progress(interactive=False, seconds=10)
    progress.on_train_start(trainer)
    for _ in range(700):
        clock.now += 0.1
        trainer.step += 1
        progress.on_step_end(trainer, trainer.step, {"loss": 1.0})
        if trainer.step % 500 == 0:  # written once every callback has seen the step
            progress.on_checkpoint_saved(trainer, trainer.folder.checkpoint)
            progress.on_checkpoint_saved(trainer, Path("run/best.safetensors"))  # not the run's checkpoint
    progress.on_train_end(trainer)
    steps = [line for line in capsys.readouterr().out.splitlines() if line.startswith("step ")]
    tagged = [line for line in steps if "[" in line]
    assert [line.split()[1] for line in tagged] == ["500/1200"], steps
    assert tagged[0].endswith("[grid step-000500.png, checkpoint]")
    assert len(steps) > 6  # a line every 10 s besides


def test_a_checkpoint_between_grids_tags_its_own_line(monkeypatch, capsys):
    """A checkpoint of --checkpoint-minutes (or an interrupt) comes at any step: its line is printed, tagged."""
    clock = Clock()
    monkeypatch.setattr(progress_module.time, "perf_counter", clock)
    trainer, progress = fake_trainer(1000), Progress(interactive=False, seconds=1e9)
    progress.on_train_start(trainer)
    run_steps(progress, trainer, clock, 123, 0.1)
    progress.on_checkpoint_saved(trainer, trainer.folder.checkpoint)
    run_steps(progress, trainer, clock, 2, 0.1)
    steps = [line for line in capsys.readouterr().out.splitlines() if line.startswith("step ")]
    assert len(steps) == 1 and steps[0].startswith("step 123/1000") and steps[0].endswith("[checkpoint]")


def test_on_several_threads_the_line_says_one_may_be_faster(monkeypatch, capsys):
    """torch's threads wait on each other when other processes hold the cores (19 against 106 images/s measured)."""
    clock = Clock()
    monkeypatch.setattr(progress_module.time, "perf_counter", clock)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    trainer, progress = fake_trainer(4000), Progress(interactive=True, seconds=1e9)
    progress.on_train_start(trainer)
    run_steps(progress, trainer, clock, 25, 0.5)
    assert "minutes (on a machine others share, OMP_NUM_THREADS=1 may be faster)" in capsys.readouterr().err
