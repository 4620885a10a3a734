"""A callback's options declare choices and ranges as config options do (``Annotated[int, option(minimum=1)]``):
a bad value is zoo's own one-line message before anything is written, and ``zoo info --kind callbacks`` lists
them."""

from __future__ import annotations

import json
from typing import Annotated

import pytest

import zoo
from zoo.config import option


class Patience(zoo.Callback):
    """Remember the best value of a logged figure."""

    def __init__(self, figure: str = "loss_d",
                 mode: Annotated[str, option(help="min: lower is better; max: higher", choices=("min", "max"))] = "min",
                 patience: Annotated[int, option(help="steps without improvement", minimum=1, maximum=1000)] = 5,
                 source: Annotated[str, option(help="a loss, by its registered name", choices="losses")] = "hinge"):
        self.figure, self.mode, self.patience, self.source = figure, mode, patience, source


class PatiencePlugin:
    @zoo.hookimpl
    def register_callbacks(self, register):
        register("patience", Patience, summary="remember the best figure")


@pytest.fixture
def patience(register_plugin):
    register_plugin(PatiencePlugin(), "patience")
    return "patience"


@pytest.mark.parametrize("given, message", [
    ("mode=maxx", "Error: bad value 'maxx' for callback 'patience' option 'mode'; choose one of: min, max\n"),
    ("patience=0", "Error: callback 'patience' option 'patience' must be at least 1, got 0\n"),
    ("patience=1001", "Error: callback 'patience' option 'patience' must be at most 1000, got 1001\n"),
    ("source=hingee", "Error: bad value 'hingee' for callback 'patience' option 'source'; choose one of: "),
])
def test_a_value_outside_an_options_choices_or_range_is_one_line_and_nothing_is_written(
        patience, toy, zoo_cli, tmp_path, tiny_npz, given, message):
    code, _, err = zoo_cli("train", toy, "--data", tiny_npz, "--steps", "2", "--out", tmp_path / "run",
                           "--callback", f"patience:{given}")
    assert code == 1 and err.startswith(message) and err.count("\n") == 1, err
    assert not (tmp_path / "run").exists()


def test_good_values_reach_the_callback_converted(patience, toy, tmp_path, tiny_npz):
    trainer = zoo.train(toy, data=str(tiny_npz), out=tmp_path / "run", steps=2,
                        callbacks=[("patience", {"mode": "max", "patience": "3", "source": "wasserstein"})])
    [made] = [c for c in trainer.callbacks if isinstance(c, Patience)]
    assert (made.mode, made.patience, made.source) == ("max", 3, "wasserstein")


def test_the_callback_works_unchanged_when_built_by_hand():
    assert Patience().patience == 5 and Patience(mode="max").mode == "max"


def test_zoo_info_lists_a_callbacks_options_with_their_checks(patience, zoo_cli):
    code, out, err = zoo_cli("info", "patience", "--kind", "callbacks")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("patience: remember the best figure")
    assert lines[1].split() == ["OPTION", "TYPE", "DEFAULT", "RANGE", "HELP"]
    assert lines[3].split()[:3] == ["mode", "min|max", "'min'"] and "lower is better" in lines[3]
    assert lines[4].split()[:4] == ["patience", "int", "5", "1..1000"]
    code, out, _ = zoo_cli("info", "--kind", "callbacks", "--json")
    described = json.loads(out)
    assert {"patience", "metrics", "samples"} <= set(described)
    assert described["patience"]["options"]["patience"] == {"type": "int", "default": 5, "required": False,
                                                            "minimum": 1, "maximum": 1000,
                                                            "help": "steps without improvement"}
