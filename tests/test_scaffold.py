"""``zoo new-plugin`` (each kind) -> pip install -e -> its own tests pass; ``zoo plugins check`` runs the
conformance checks on installed plugins and fails on a broken one."""

import os
import re
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
from fake_dist import write_plugin

from zoo.registry import plugin_host as plugins


@pytest.fixture(scope="module")
def env_with_site_packages(tmp_path_factory):
    """A venv that sees this one's packages (torch, zoo) and takes editable installs of its own."""
    root = tmp_path_factory.mktemp("authors-venv")
    venv.create(root, with_pip=False)
    python = root / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import site; print(site.getsitepackages()[0])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    parent = sysconfig.get_paths()["purelib"]  # this venv's packages, editable installs (.pth files) included
    (Path(site) / "_parent_venv.pth").write_text(f"import site; site.addsitedir({parent!r})\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZOO_")}
    env["ZOO_HOME"] = str(root / "zoo-home")
    return {"python": str(python), "site": site, "env": env, "root": root}


def run(env, *argv, cwd=None):
    return subprocess.run(argv, cwd=cwd, env=env["env"], capture_output=True, text=True)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["gan", "architecture", "denoiser", "callback"])
def test_a_new_plugin_installs_and_passes_its_tests(env_with_site_packages, tmp_path, kind):
    env = env_with_site_packages
    folder = tmp_path / f"zoo-demo-{kind}"
    result = run(env, env["python"], "-m", "zoo", "new-plugin", f"demo-{kind}", "--dir", str(folder), "--kind", kind)
    assert result.returncode == 0 and "pip install -e" in result.stdout, result.stderr
    install = run(env, sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                  "--prefix", str(env["root"]), "-e", str(folder))
    assert install.returncode == 0, install.stderr
    tests = run(env, env["python"], "-m", "pytest", "-q", "-p", "no:cacheprovider", str(folder), cwd=folder)
    assert tests.returncode == 0, tests.stdout[-3000:]
    listed = run(env, env["python"], "-m", "zoo", "list", "--kind", "callbacks" if kind == "callback" else "models")
    assert f"demo-{kind}" in listed.stdout
    checked = run(env, env["python"], "-m", "zoo", "plugins", "check", f"zoo-demo-{kind}")
    assert checked.returncode == 0 and " 0 failed" in checked.stdout, checked.stdout + checked.stderr


@pytest.mark.parametrize("kind, what", [("gan", "A GAN"), ("architecture", "A generative model"),
                                        ("denoiser", "A denoising generative model"),
                                        ("callback", "A training callback")])
def test_what_new_plugin_writes_says_what_kind_it_is_and_nothing_of_its_starting_code(zoo_cli, tmp_path, kind, what):
    """Before: every architecture plugin was "A variational autoencoder" in its summary, pyproject and README."""
    code, _, err = zoo_cli("new-plugin", "shiny", "--kind", kind, "--dir", tmp_path)
    assert code == 0, err
    module = (tmp_path / "zoo_shiny" / "__init__.py").read_text()
    assert f'summary="{what}"' in module
    assert f'description = "{what}"' in (tmp_path / "pyproject.toml").read_text()
    assert (tmp_path / "README.md").read_text().splitlines()[2].startswith(f"{what} for zoo")
    said = " ".join(p.read_text() for p in (tmp_path / "README.md", tmp_path / "pyproject.toml",
                                             tmp_path / "zoo_shiny" / "__init__.py"))
    assert not re.search(r"variational|autoencoder|spectral(ly)? normali[sz]ed|rectified|log of", said, re.I)


def test_new_plugin_refuses_bad_names_and_full_folders(zoo_cli, tmp_path):
    code, _, err = zoo_cli("new-plugin", "My_Plugin", "--dir", tmp_path / "x")
    assert code == 1 and "lower-case letters" in err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    code, _, err = zoo_cli("new-plugin", "demo", "--dir", tmp_path / "full")
    assert code == 1 and "not empty" in err and (tmp_path / "full" / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize("name, kind, taken_by", [
    ("spectral", "gan", "zoo-spectral 0.2 has the entry point 'spectral = spectral_models'"),
    ("resnet-gan", "architecture", "zoo-spectral 0.2 registers the model 'resnet-gan'"),
    ("lonely", "gan", "the distribution zoo-lonely 1.0 is installed"),
    ("metrics", "callback", "registers the callback 'metrics'"),  # zoo's own: the new plugin would replace it
])
def test_new_plugin_refuses_a_name_an_installed_plugin_uses(site, zoo_cli, tmp_path, name, kind, taken_by):
    write_plugin(site, "zoo-spectral", "0.2", "spectral_models", """
        from dataclasses import dataclass
        import zoo

        @dataclass
        class Config:
            size: int = 3

        @zoo.hookimpl
        def register_architectures(register):
            register("resnet-gan", "toy_model:ToyGAN", config=Config, summary="a GAN of another name")
    """, entry_name="spectral")
    (site / "zoo_lonely-1.0.dist-info").mkdir()  # a distribution without entry points
    (site / "zoo_lonely-1.0.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: zoo-lonely\nVersion: 1.0\n")
    plugins.reset()
    code, _, err = zoo_cli("new-plugin", name, "--kind", kind, "--dir", tmp_path / "new")
    assert code == 1 and err.count("\n") == 1, err
    assert f"plugin name '{name}' is taken: " in err and taken_by in err and f"e.g. '{name}-2'" in err
    assert not (tmp_path / "new").exists()
    code, out, err = zoo_cli("new-plugin", f"{name}-2", "--kind", kind, "--dir", tmp_path / "new")
    assert code == 0 and (tmp_path / "new" / "pyproject.toml").exists(), err


def test_plugins_check_reports_a_failing_plugin(site, zoo_cli):
    write_plugin(site, "zoo-backwards", "0.1", "zoo_backwards", """
        import zoo

        class Backwards:
            def discriminator(self, real, fake):
                return real.mean() - fake.mean()

            def generator(self, fake):
                return fake.mean()

        @zoo.hookimpl
        def register_losses(register):
            register("backwards", Backwards(), summary="signs the wrong way round")
    """)
    plugins.reset()
    code, out, _ = zoo_cli("plugins", "check", "zoo-backwards")
    assert code == 1 and "loss backwards" in out and "FAILED" in out and "0 passed, 1 failed" in out
    code, _, err = zoo_cli("plugins", "check", "zoo-nothing")
    assert code == 1 and "zoo-nothing" in err


def test_plugins_check_runs_the_sampler_check_on_an_installed_sampler(site, zoo_cli):
    write_plugin(site, "zoo-reversed", "0.1", "zoo_reversed", """
        import zoo

        def reversed_euler(model, z, labels, settings):  # walks from t = 1 to 0: the data's end taken for noise
            x, dt = z, 1.0 / settings.steps
            for i in model.progress(range(settings.steps)):
                x = x - dt * model.predict(x, 1.0 - i * dt, labels, settings)
            return x

        @zoo.hookimpl
        def register_samplers(register):
            register("reversed", reversed_euler, serves=("velocity",), summary="Euler, the wrong way round")
    """)
    plugins.reset()
    code, out, _ = zoo_cli("plugins", "check", "zoo-reversed")
    assert code == 1 and "reversed  check_sampler" in out and "does not walk from noise" in out, out
    assert "0 passed, 1 failed" in out


def test_plugins_check_prints_each_check_as_it_finishes(site, tmp_path):
    """The second check waits for a file the test writes once it has read the first check's line: were the lines
    held back to the end, it would time out and fail."""
    go = tmp_path / "go"
    write_plugin(site, "zoo-slow", "0.1", "zoo_slow", f"""
        import pathlib, time

        import zoo

        class Hinge:
            def discriminator(self, real, fake):
                return (1 - real).relu().mean() + (1 + fake).relu().mean()

            def generator(self, fake):
                return -fake.mean()

        class Waits(Hinge):
            def discriminator(self, real, fake):
                deadline = time.monotonic() + 60
                while not pathlib.Path({str(go)!r}).exists():
                    assert time.monotonic() < deadline, "the first check's line never came"
                    time.sleep(0.05)
                return super().discriminator(real, fake)

        @zoo.hookimpl
        def register_losses(register):
            register("a-first", Hinge(), summary="checked first")
            register("b-second", Waits(), summary="waits for the test")
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZOO_")}
    env.update(PYTHONPATH=os.pathsep.join([str(site), *sys.path]), ZOO_HOME=str(tmp_path / "home"))
    proc = subprocess.Popen([sys.executable, "-m", "zoo", "plugins", "check", "zoo-slow"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == "2 checks of 2 registrations, each printed as it finishes\n"
        first = proc.stdout.readline()
        go.touch()
        rest = proc.stdout.read()
        assert proc.wait(timeout=120) == 0, rest + proc.stderr.read()
    finally:
        proc.kill()
    assert re.fullmatch(r"loss a-first   check_loss +\d+\.\ds  ok\n", first), first
    assert re.match(r"loss b-second  check_loss +\d+\.\ds  ok\n2 passed, 0 failed\n$", rest), rest


def test_plugins_check_checks_a_plugins_penalties(site, zoo_cli):
    write_plugin(site, "zoo-penalties", "0.1", "zoo_penalties", """
        import torch

        import zoo

        def detached(critic, real, fake):
            real = real.detach().requires_grad_(True)
            (grads,) = torch.autograd.grad(critic(real).sum(), real)
            return grads.pow(2).sum() / len(real)

        def r1_again(critic, real, fake):
            real = real.detach().requires_grad_(True)
            (grads,) = torch.autograd.grad(critic(real).sum(), real, create_graph=True)
            return grads.flatten(1).pow(2).sum(1).mean()

        @zoo.hookimpl
        def register_penalties(register):
            register("detached", detached, summary="forgets create_graph")
            register("r1-again", r1_again, summary="R1")
    """)
    plugins.reset()
    code, out, _ = zoo_cli("plugins", "check", "zoo-penalties")
    assert code == 1 and "1 passed, 1 failed" in out
    assert "penalty detached" in out and "create_graph=True" in out and "penalty r1-again" in out


def test_new_plugin_names_the_interpreter_that_ran_zoo_quoted_for_the_shell(zoo_cli, tmp_path):
    """Before: 'pip install -e DIR && pytest DIR', the first pip and pytest on PATH (the system's, where the venv
    is not activated, as the README's quick start leaves it)."""
    import shlex

    folder = tmp_path / "my plugins" / "zoo-demo"
    code, out, err = zoo_cli("new-plugin", "demo", "--dir", folder)
    assert code == 0, err
    python, where = shlex.quote(sys.executable), shlex.quote(str(folder))
    assert out.splitlines()[-1] == f"next: {python} -m pip install -e {where} && {python} -m pytest {where}"
