"""zoo --help/--version/list/info/plugins, and that the CLI stays light and never shows a traceback."""

import json
import os
import subprocess
import sys

import pytest

import zoo


def test_list_shows_name_summary_plugin_and_version(toy, zoo_cli):
    code, out, _ = zoo_cli("list")
    assert code == 0
    assert "toy-gan" in out and "A tiny GAN for tests" in out
    code, out, _ = zoo_cli("list", "--json")
    rows = {row["name"]: row for row in json.loads(out)}
    assert rows["toy-gan"]["plugin"] == "toy" and "version" in rows["toy-gan"]


def test_info_shows_networks_and_config_help(toy, zoo_cli):
    code, out, _ = zoo_cli("info", toy)
    assert code == 0
    assert "generator:" in out and "discriminator:" in out and "parameters" in out
    assert "latent_dim" in out and "noise size" in out
    code, out, _ = zoo_cli("info", toy, "--json")
    described = json.loads(out)
    assert described["config"]["width"]["default"] == 4
    assert described["networks"]["generator"] > 0


def test_plugins_lists_builtin_and_registered_hooks(toy, zoo_cli):
    code, out, _ = zoo_cli("plugins", "--json")
    rows = {row["name"]: row for row in json.loads(out)}
    assert rows["zoo"]["distribution"] == "zoo-core"
    assert rows["zoo"]["registered"]["penalties"] == ["gradient-penalty", "r1"]
    assert "gradient-penalty" not in rows["zoo"]["registered"]["losses"]
    assert rows["toy"]["hooks"] == ["register_architectures"]
    assert rows["toy"]["registered"] == {"models": ["toy-gan"]}
    assert rows["toy"]["errors"] == []
    code, out, _ = zoo_cli("plugins")
    assert code == 0 and "models: toy-gan" in out


@pytest.mark.parametrize("kind, expected", [
    ("models", ["toy-gan"]),
    ("losses", ["hinge", "least-squares", "non-saturating", "ragan", "rahinge", "wasserstein"]),
    ("penalties", ["gradient-penalty"]),
    ("datasets", ["fashion-mnist", "mnist", "mnist-full"]),
    ("callbacks", ["checkpoints", "evaluation", "loss-plot", "metrics", "samples", "validation"]),
    ("features", ["classifier"]),
])
def test_list_kind_lists_every_kind_in_python_and_on_the_command_line(toy, zoo_cli, kind, expected):
    assert set(expected) <= set(zoo.list_registered(kind))
    code, out, _ = zoo_cli("list", "--kind", kind, "--json")
    assert code == 0 and set(expected) <= {row["name"] for row in json.loads(out)}
    assert all(row["summary"] and row["distribution"] for row in json.loads(out))


def test_info_lists_the_registered_losses_as_choices(toy, zoo_cli):
    code, out, _ = zoo_cli("info", toy)
    assert "hinge|least-squares|non-saturating|ragan|rahinge|wasserstein" in out


def test_an_unknown_name_is_one_plain_line(toy, zoo_cli):
    code, _, err = zoo_cli("train", "toy-gn")
    assert code == 1 and err.startswith("Error: unknown model 'toy-gn'; did you mean 'toy-gan'? registered: ")
    assert err.count("\n") == 1 and "Error" not in err[6:] and "ZOO_DEBUG" not in err


@pytest.mark.parametrize("args, message", [
    (["info", "no-such-model"], "unknown model 'no-such-model'"),
    (["train", "toy-gan", "--no-such-option"], "No such option"),
    (["sample", "missing-run", "--out", "x.png"], "no such checkpoint"),
])
def test_errors_are_one_line_without_traceback(toy, zoo_cli, args, message):
    code, out, err = zoo_cli(*args)
    assert code != 0
    assert message in err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err


def _run(code):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZOO_")}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)


@pytest.mark.parametrize("argv", [["--help"], ["--version"]])
def test_help_and_version_do_not_import_torch(argv):
    result = _run(
        "import sys\n"
        "from zoo.cli.main import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit as e:\n    assert e.code in (0, None), e.code\n"
        "print('TORCH_LOADED' if 'torch' in sys.modules else 'TORCH_FREE')\n"
    )
    assert result.returncode == 0, result.stderr
    assert "TORCH_FREE" in result.stdout, "zoo " + " ".join(argv) + " imported torch"


def test_list_does_not_import_torch():
    result = _run("import sys\nimport zoo\nzoo.list_models()\nprint('torch' in sys.modules)")
    assert result.stdout.strip() == "False", result.stderr


def test_python_m_zoo_runs_the_cli():
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZOO_")}
    result = subprocess.run([sys.executable, "-m", "zoo", "list", "--kind", "penalties"], capture_output=True,
                            text=True, env=env)
    assert result.returncode == 0 and "gradient-penalty" in result.stdout, result.stderr
    result = subprocess.run([sys.executable, "-m", "zoo", "train", "no-such-model"], capture_output=True, text=True, env=env)
    assert result.returncode == 1 and result.stderr.startswith("Error: unknown model 'no-such-model'")


def test_console_script_runs():
    exe = sys.executable.rsplit("/", 1)[0] + "/zoo"
    result = subprocess.run([exe, "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and zoo.__version__ in result.stdout
