"""Every zoo command the README and docs/ show in a shell block is one the CLI accepts as written: its command,
subcommands, options and values parse (nothing is run). A renamed option or a command the docs invent fails here."""

import re
import shlex
import warnings
from pathlib import Path

import click
import pytest

from zoo.cli.main import get_cli

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_BLOCK = re.compile(r"^```(?:bash|sh|console)\n(?P<body>.*?)^```$", re.S | re.M)


def zoo_commands() -> list[tuple[str, list[str]]]:
    """(page, argv after 'zoo') for each zoo command in the pages' shell blocks."""
    found = []
    for page in PAGES:
        for block in SHELL_BLOCK.finditer(page.read_text()):
            for line in block["body"].splitlines():
                line = line.split("  #")[0].strip()
                for command in re.split(r"\s*(?:&&|\|\||;)\s*", line):
                    words = shlex.split(command) if command else []
                    if "-m" in words and "zoo" in words[words.index("-m") + 1:words.index("-m") + 2]:
                        words = words[words.index("-m") + 1:]  # torchrun ... -m zoo ARGS, python -m zoo ARGS
                    if words and Path(words[0]).name == "zoo":
                        found.append((page.name, [w for w in words[1:] if w != "..."]))
    return found


COMMANDS = zoo_commands()


def test_the_docs_show_the_commands_a_user_starts_with():
    shown = {argv[0] for _, argv in COMMANDS}
    assert {"train", "sample", "eval", "runs"} <= shown, shown


def parse_error(argv: list[str]) -> str | None:
    """Why ``zoo ARGV`` would not parse (None when it does)."""
    group, args, ctx = get_cli(), list(argv), None
    command = group
    try:
        while isinstance(command, click.Group):
            ctx = command.make_context(command.name or "zoo", list(args), parent=ctx, resilient_parsing=False)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)  # protected_args: click 8.2 to 9
                name, *args = [*ctx.protected_args, *ctx.args]
            command = command.get_command(ctx, name)
            if command is None:
                return f"no command '{name}'"
        command.make_context(command.name, list(args), parent=ctx, resilient_parsing=False)
    except click.UsageError as exc:
        return exc.format_message()
    return None


def test_a_command_with_a_wrong_option_is_caught():
    assert "No such option" in parse_error(["train", "dcgan", "--stepz", "600"])
    assert "no command" in parse_error(["trian", "dcgan"])
    assert parse_error(["runs", "compare", "a", "b", "--out", "c.png"]) is None


@pytest.mark.parametrize("page, argv", COMMANDS, ids=[f"{p}: zoo {' '.join(a)}" for p, a in COMMANDS])
def test_a_documented_command_parses(page, argv):
    error = parse_error(argv)
    assert error is None, f"{page}: 'zoo {' '.join(argv)}' does not parse: {error}"


def test_the_readmes_first_command_fits_any_cpu_and_writes_under_runs():
    """The first of the README's two commands trains on a wall-clock budget (not the default's 4,000 steps, an hour
    on a busy machine) and writes nothing into the clone but runs/, which git ignores; each is one command line."""
    first, tests = [block["body"].strip() for block in SHELL_BLOCK.finditer((ROOT / "README.md").read_text())][:2]
    assert "\n" not in first and "\n" not in tests and tests.endswith(".venv/bin/python -m pytest")
    words = shlex.split(first)
    train = words.index("train")
    assert words[train + 1] == "dcgan" and "--minutes" in words and float(words[words.index("--minutes") + 1]) <= 5
    outs = [words[i + 1] for i, word in enumerate(words) if word == "--out"]
    assert len(outs) == 2 and all(out.startswith("runs/") for out in outs), outs
    assert "runs/" in (ROOT / ".gitignore").read_text().splitlines()
