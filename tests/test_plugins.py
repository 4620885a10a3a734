"""Plugin discovery: in-process plugins, real entry-point metadata, and plugins that break."""

import json
import subprocess
import sys

import pytest
from fake_dist import write_plugin

import zoo
from zoo.registry import plugin_host as plugins
from zoo.errors import PluginError


GOOD = """
    from dataclasses import dataclass
    import zoo

    @dataclass
    class Config:
        size: int = 3

    @zoo.hookimpl
    def register_architectures(register):
        register("outside-model", "toy_model:ToyGAN", config=Config, summary="registered from outside the repo")
"""


def test_in_process_plugin_is_listed_with_its_details(toy):
    assert toy in zoo.list_models()
    assert zoo.list_models("toy-*") == ["toy-gan"]
    assert zoo.list_models("nothing-*") == []
    spec = zoo.get_model(toy)
    assert spec.summary == "A tiny GAN for tests"
    assert spec.plugin == "toy"
    assert spec.default_config.latent_dim == 8
    assert spec.train_defaults == {"steps": 6, "batch_size": 16}


def test_entry_point_plugin_is_found_without_core_naming_it(site):
    write_plugin(site, "zoo-outside", "0.3.1", "zoo_outside", GOOD)
    plugins.reset()
    assert "outside-model" in zoo.list_models()
    spec = zoo.get_model("outside-model")
    assert (spec.plugin, spec.distribution, spec.version) == ("zoo_outside", "zoo-outside", "0.3.1")


def test_entry_point_plugin_seen_by_the_installed_cli(site):
    write_plugin(site, "zoo-outside", "0.3.1", "zoo_outside", GOOD)
    env_path = f"{site}"
    result = subprocess.run([sys.executable, "-c", "from zoo.cli.main import main; main(['list'])"],
                            capture_output=True, text=True, env={**_env(), "PYTHONPATH": env_path})
    assert result.returncode == 0, result.stderr
    assert "outside-model" in result.stdout and "zoo-outside" in result.stdout


def _env():
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("ZOO_")}


@pytest.mark.parametrize("body", [
    "raise ImportError('needs a library that is not installed')\n",
    """
    import zoo
    @zoo.hookimpl
    def register_architectures(register):
        raise RuntimeError('bug in the hook')
    """,
], ids=["import-fails", "hook-raises"])
def test_broken_plugin_is_reported_once_and_others_keep_working(site, toy, capsys, body):
    write_plugin(site, "zoo-broken", "1.0", "zoo_broken", body)
    write_plugin(site, "zoo-outside", "0.3.1", "zoo_outside", GOOD)
    plugins.reset()
    plugins.plugin_manager().register(__import__("toy").ToyPlugin(), name="toy")
    assert "outside-model" in zoo.list_models()
    assert "toy-gan" in zoo.list_models()
    zoo.list_models()
    err = capsys.readouterr().err
    assert err.count("zoo_broken") == 1, err
    assert "zoo-broken 1.0" in err
    broken = [info for info in plugins.list_plugins() if info.name == "zoo_broken"][0]
    assert broken.errors and ("ImportError" in broken.errors[0] or "RuntimeError" in broken.errors[0])


def test_strict_mode_makes_a_broken_plugin_fatal(site, monkeypatch):
    write_plugin(site, "zoo-broken", "1.0", "zoo_broken", "raise ImportError('nope')\n")
    monkeypatch.setenv("ZOO_STRICT_PLUGINS", "1")
    plugins.reset()
    with pytest.raises(PluginError, match="zoo_broken.*ImportError: nope"):
        zoo.list_models()


def test_load_plugins_env_selects_entry_points(site, monkeypatch):
    write_plugin(site, "zoo-outside", "0.3.1", "zoo_outside", GOOD)
    monkeypatch.setenv("ZOO_LOAD_PLUGINS", "")
    plugins.reset()
    assert zoo.list_models() == []
    assert "hinge" in zoo.list_registered("losses"), "zoo's own registrations always load"
    monkeypatch.setenv("ZOO_LOAD_PLUGINS", "zoo_outside")
    plugins.reset()
    assert zoo.list_models() == ["outside-model"]


@pytest.mark.parametrize("call, error", [
    ('register("bad-model", "m:X", summary="no config")', "config= must be a dataclass"),
    ('register("bad-model", "m:X", config=Config, data_shapes=5)', "data_shapes= must be a non-empty list"),
    ('register(None, "m:X", config=Config)', "names must be non-empty strings"),
    ('register("bad-model", "m:X", config=Config, train_defaults={"clip_grad": 1.0})',
     "train_defaults key 'clip_grad' is not a training option; did you mean 'clip_grad_norm'? valid: steps, "),
    ('register("bad-model", "m:X", config=Config, train_defaults={"clip_grad_norm": -1.0})',
     "train_defaults 'clip_grad_norm' must be at least 0.0, got -1.0"),
])
def test_a_malformed_registration_is_reported_against_its_plugin(site, toy, capsys, call, error):
    write_plugin(site, "zoo-sloppy", "0.1", "zoo_sloppy", GOOD.replace(
        'register("outside-model"', f'{call}\n        register("outside-model"'))
    plugins.reset()
    plugins.plugin_manager().register(__import__("toy").ToyPlugin(), name="toy")
    models = zoo.list_models()
    assert {"outside-model", "toy-gan", "dcgan"} <= set(models) and "bad-model" not in models
    err = capsys.readouterr().err
    assert "plugin 'zoo_sloppy' (zoo-sloppy 0.1) failed in register_architectures" in err and error in err


def test_unknown_model_suggests_close_names_and_lists_the_rest(toy):
    with pytest.raises(zoo.UnknownModelError) as info:
        zoo.get_model("toy-gn")
    assert isinstance(info.value, KeyError)
    message = str(info.value)
    assert "did you mean 'toy-gan'" in message
    assert "registered:" in message and "toy-gan" in message


def test_unknown_model_shows_why_its_plugin_failed(site):
    write_plugin(site, "zoo-fancy", "2.0", "zoo_fancy", "raise ImportError('torchvision missing')\n", entry_name="fancy")
    plugins.reset()
    with pytest.raises(zoo.UnknownModelError, match="plugin 'fancy' \\(zoo-fancy 2.0\\) failed to load.*torchvision missing"):
        zoo.get_model("fancy")


def test_same_name_from_two_plugins_is_a_clear_error(register_plugin, toy, capsys):
    from toy import ToyPlugin

    register_plugin(ToyPlugin(), "toy-copy")
    assert "toy-gan" not in zoo.list_models()
    message = "model 'toy-gan' is ambiguous: registered by both plugin 'toy' and plugin 'toy-copy'; uninstall one"
    with pytest.raises(zoo.DuplicateNameError) as info:
        zoo.get_model("toy-gan")
    assert str(info.value) == message
    assert capsys.readouterr().err.splitlines() == [f"zoo: warning: {message}"]  # not "plugin X failed in ..."
    notes = {info.name: info.notes for info in plugins.list_plugins()}
    assert notes["toy"] == notes["toy-copy"] == [message]


def test_create_model_applies_overrides_and_rejects_unknown_keys(toy):
    model = zoo.create_model(toy, latent_dim=5)
    assert model.config.latent_dim == 5 and model.name == toy
    with pytest.raises(zoo.ConfigError, match="unknown config key 'latnt_dim'.*latent_dim \\(int\\)"):
        zoo.create_model(toy, latnt_dim=5)


def test_plugin_commands_join_the_cli(register_plugin, zoo_cli, monkeypatch):
    import click

    import zoo.cli.main as cli_main

    class WithCommand:
        @zoo.hookimpl
        def register_commands(self, cli):
            @cli.command()
            def hello():
                """Say hello from a plugin."""
                click.echo("hello from a plugin")

    register_plugin(WithCommand(), "with-command")
    monkeypatch.setattr(cli_main, "_commands_added", False)
    code, out, _ = zoo_cli("hello")
    assert code == 0 and out.strip() == "hello from a plugin"
    cli_main.cli.commands.pop("hello", None)


def test_train_on_a_model_whose_plugin_failed_shows_that_error(site, zoo_cli):
    write_plugin(site, "zoo-fancy", "2.0", "zoo_fancy", "raise ImportError('torchvision missing')\n", entry_name="fancy")
    plugins.reset()
    code, _, err = zoo_cli("train", "fancy", "--quiet")
    assert code == 1
    assert "unknown model 'fancy'" in err and "plugin 'fancy' (zoo-fancy 2.0) failed to load" in err
    assert "torchvision missing" in err.splitlines()[-1]


@pytest.mark.parametrize("body, error", [
    ("import sys\nsys.exit('needs torchvision: pip install torchvision')\n", "SystemExit: needs torchvision"),
    ("raise KeyboardInterrupt\n", "KeyboardInterrupt"),
    ("import zoo\n@zoo.hookimpl\ndef register_architectures(register):\n    raise SystemExit(3)\n", "SystemExit: 3"),
], ids=["sys-exit-at-import", "keyboard-interrupt-at-import", "system-exit-in-a-hook"])
def test_a_plugin_that_exits_or_interrupts_is_isolated(site, zoo_cli, capsys, body, error):
    write_plugin(site, "zoo-rude", "0.9", "zoo_rude", body)
    write_plugin(site, "zoo-outside", "0.3.1", "zoo_outside", GOOD)
    plugins.reset()
    assert "outside-model" in zoo.list_models()
    err = capsys.readouterr().err
    assert "plugin 'zoo_rude' (zoo-rude 0.9) failed in" in err and error in err
    code, out, _ = zoo_cli("--help")
    assert code == 0 and "train" in out


def test_a_plugin_that_exits_is_fatal_in_strict_mode(site, monkeypatch):
    write_plugin(site, "zoo-rude", "0.9", "zoo_rude", "import sys\nsys.exit(1)\n")
    monkeypatch.setenv("ZOO_STRICT_PLUGINS", "1")
    plugins.reset()
    with pytest.raises(PluginError, match="zoo_rude.*SystemExit"):
        zoo.list_models()


MISSING_FACTORY = GOOD.replace('"toy_model:ToyGAN"', '"zoo_ghost.model:Ghost"')


def test_a_factory_that_cannot_be_imported_names_its_plugin(site, zoo_cli, monkeypatch):
    write_plugin(site, "zoo-ghost", "1.1", "zoo_ghost", MISSING_FACTORY)
    plugins.reset()
    assert "outside-model" in zoo.list_models()  # registered lazily: listing does not import it
    code, _, err = zoo_cli("train", "outside-model", "--quiet", "--out", site / "run")
    assert code == 1 and err.count("\n") == 1
    assert "plugin 'zoo_ghost' (zoo-ghost 1.1) points at zoo_ghost.model:Ghost, which cannot be loaded" in err
    assert not (site / "run").exists()
    monkeypatch.setenv("ZOO_STRICT_PLUGINS", "1")
    plugins.reset()
    with pytest.raises(PluginError, match="zoo_ghost.*ModuleNotFoundError"):
        zoo.list_models()


def test_zoo_plugins_shows_what_each_import_cost(site, zoo_cli):
    write_plugin(site, "zoo-slow", "1.0", "zoo_slow", "\n    import time\n    time.sleep(0.3)" + GOOD)
    plugins.reset()
    code, out, _ = zoo_cli("plugins", "--json")
    rows = {row["name"]: row for row in json.loads(out)}
    assert rows["zoo_slow"]["import_seconds"] >= 0.3 and rows["zoo"]["import_seconds"] < 0.3


@pytest.mark.parametrize("declared, loads, advice", [
    ('"1.0"', True, None),
    (f'"{zoo.API_VERSION}"', True, None),
    ('"1.99"', False, "written for zoo API 1.99, but zoo-core"),
    ('"2.0"', False, "upgrade zoo-core"),
    ('"0.3"', False, "no longer provides: upgrade zoo-versioned"),
    ('"soon"', False, "is not a MAJOR.MINOR version"),
])
def test_a_plugin_outside_the_api_range_is_skipped_with_one_warning(site, zoo_cli, capsys, declared, loads, advice):
    write_plugin(site, "zoo-versioned", "3.0", "zoo_versioned", f"\n    ZOO_API = {declared}" + GOOD)
    plugins.reset()
    assert ("outside-model" in zoo.list_models()) is loads
    err = capsys.readouterr().err
    if advice:
        assert err.count("\n") == 1 and "plugin 'zoo_versioned' (zoo-versioned 3.0)" in err and advice in err, err
        code, out, _ = zoo_cli("plugins", "--json")
        assert any(advice in e for row in json.loads(out) if row["name"] == "zoo_versioned" for e in row["errors"])
    else:
        assert not err
