"""What zoo says when a run stops part way, when it ends, and in its option help: each message complete, true,
and with the command that goes on."""

import shlex

import pytest

import zoo
from zoo.store.checkpoint import load_checkpoint
from zoo.training.options import fields

QUICK = ["--steps", "6", "--batch-size", "8", "--checkpoint-every", "3", "--sample-every", "0", "--quiet"]


class StopAt(zoo.Callback):
    """Ctrl-C at step ``at`` (0: never)."""

    def __init__(self, at: int = 0):
        self.at = at

    def on_step_end(self, trainer, step, logs):
        if step == self.at:
            raise KeyboardInterrupt


class StopAtPlugin:
    @zoo.hookimpl
    def register_callbacks(self, register):
        register("stop-at", StopAt, summary="Ctrl-C at a step")


@pytest.mark.parametrize("at, held", [(4, 3), (2, None)])
def test_an_interrupted_run_says_its_step_its_checkpoint_and_the_command_to_continue(
        toy, register_plugin, zoo_cli, tmp_path, tiny_npz, at, held):
    """Before: "Aborted." alone. At step 4 the step-3 checkpoint stands (the interruption came before step 4's)."""
    register_plugin(StopAtPlugin(), "stop-at")
    out = tmp_path / "my run"  # a space: the command must be quoted for the shell
    code, _, err = zoo_cli("train", toy, "--data", tiny_npz, "--out", out, "--callback", f"stop-at:at={at}", *QUICK)
    command = f"zoo train --resume {shlex.quote(str(out))}"
    assert code == 130
    if held:
        assert err == f"Interrupted at step {at} of 6; its checkpoint holds step {held}. Continue with: {command}\n"
        assert load_checkpoint(out).step == held
    else:
        assert err == f"Interrupted at step {at} of 6, before its first checkpoint; start it again with: {command}\n"
        assert not (out / "checkpoint.safetensors").exists()
    _, *args = shlex.split(command)
    code, _, err = zoo_cli(*args, "--callback", "stop-at:at=0", "--quiet")  # the printed command, as a shell splits it
    assert code == 0 and load_checkpoint(out).step == 6, err


def test_an_interruption_before_training_starts_is_still_aborted(toy, zoo_cli, tmp_path, tiny_npz, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("zoo.training.trainer.Trainer.from_plan", interrupted)
    code, _, err = zoo_cli("train", toy, "--data", tiny_npz, "--out", tmp_path / "run", *QUICK)
    assert code == 130 and err.strip() == "Aborted."


def test_the_closing_lines_name_the_report_and_suggest_what_the_quick_start_did_not(toy, zoo_cli, tmp_path, tiny_npz):
    out = tmp_path / "run"
    code, stdout, err = zoo_cli("train", toy, "--data", tiny_npz, "--out", out, *QUICK)
    assert code == 0, err
    *_, trained, report, hint = stdout.splitlines()
    assert trained.startswith("trained toy-gan for 6 steps")
    assert report.startswith(f"report: {out / 'report.html'}  (") and (out / "report.html").exists()
    assert hint == f"next: zoo eval {out} (FID, KID, precision, recall); zoo runs {tmp_path} (this run beside the others)"
    assert "zoo sample" not in stdout  # the README's quick start already did


def test_resume_of_a_missing_folder_says_it_does_not_exist(zoo_cli, tmp_path):
    code, _, err = zoo_cli("train", "--resume", tmp_path / "nothing")
    assert code == 1 and err == f"Error: --resume {tmp_path / 'nothing'}: no such folder\n"
    (tmp_path / "empty").mkdir()
    code, _, err = zoo_cli("train", "--resume", tmp_path / "empty")
    assert code == 1 and err == f"Error: {tmp_path / 'empty'} is not a run folder (no config.json)\n"


def test_unknown_set_key_suggests_the_close_one(toy, zoo_cli, tmp_path):
    code, _, err = zoo_cli("train", toy, "--set", "widht=3", "--out", tmp_path / "run", "--quiet")
    assert code == 1 and "unknown config key 'widht' for toy-gan; did you mean 'width'? valid keys:" in err


def test_no_option_help_claims_a_model_default_that_no_model_declares():
    """--lr-decay said "[default: the model's]"; no model declares lr_decay in its train_defaults."""
    declared = {key for name in zoo.list_models() for key in zoo.get_model(name).train_defaults}
    claims = [info.name for info in fields() if "the model's" in info.help]
    assert claims and all(name in declared for name in claims), (claims, declared)


def test_every_0_still_makes_the_final_grid_and_checkpoint_as_the_help_says(toy, zoo_cli, tmp_path, tiny_npz):
    """--sample-every 0 and --checkpoint-every 0 said "(0: off)"; the end of a run makes both anyway."""
    out = tmp_path / "run"
    code, _, err = zoo_cli("train", toy, "--data", tiny_npz, "--steps", "3", "--batch-size", "8", "--sample-every", "0",
                           "--checkpoint-every", "0", "--quiet", "--out", out)
    assert code == 0, err
    assert load_checkpoint(out).step == 3 and [p.name for p in (out / "samples").iterdir()] == ["step-000003.png"]
    helps = {info.name: info.help for info in fields()}
    assert "(0: only at the end" in helps["sample_every"] and "(0: only at the end" in helps["checkpoint_every"]
    assert "off" not in helps["sample_every"] + helps["checkpoint_every"]


def test_compile_help_gives_the_measured_start_up_cost():
    help_text = next(info.help for info in fields() if info.name == "compile")
    assert "minutes" not in help_text and "3 s" in help_text and "10-30 s" in help_text
