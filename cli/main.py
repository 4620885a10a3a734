"""The ``zoo`` group, its error handling, and plugin-provided commands.

Command modules import torch only inside their functions, so ``zoo --help`` and ``zoo --version`` stay fast.
"""

from __future__ import annotations

import os
import sys

import click

from zoo.version import __version__
from zoo.errors import ZooError
from zoo.training.distributed import is_rank_zero, launched_rank

from .terminal import Interrupted, terminal_output


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _error(text: str) -> str:
    """``Error: ...``; from a process other than rank 0 of a torchrun job, saying which rank it is."""
    rank = launched_rank()
    return "Error: " + ("" if is_rank_zero(rank) else f"rank {rank}: ") + _one_line(text)


def _first_to_say(text: str) -> bool:
    """Whether this process should print error ``text``: under torchrun, every rank reads the same command line,
    files and run folder, so most errors (a refusal to resume, say) are met by all of them and one line says it.
    Through the store of torchrun's agent, rank 0 says what it meets; another rank says what rank 0 has not said
    within five seconds, once. Elsewhere (one process, other launchers) every process says its own."""
    if os.environ.get("WORLD_SIZE", "1") == "1" or os.environ.get("TORCHELASTIC_USE_AGENT_STORE") != "True":
        return True
    try:
        import datetime
        import hashlib

        from torch.distributed import TCPStore

        store = TCPStore(os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]), is_master=False,
                         timeout=datetime.timedelta(seconds=5))
        key = (f"zoo/said/{os.environ.get('TORCHELASTIC_RESTART_COUNT', '0')}/"
               + hashlib.sha256(_one_line(text).encode()).hexdigest()[:16])
        if is_rank_zero():
            store.set(key, "0")
            return True
        try:
            store.wait([key], datetime.timedelta(seconds=5))
            return False  # rank 0 says it
        except Exception:  # rank 0 did not meet it: the first other rank that did says it
            return store.add(key + "/others", 1) == 1
    except Exception:  # no store to ask: better twice than never
        return True


def _say(text: str) -> None:
    if _first_to_say(text):
        click.echo(_error(text), err=True)


class ZooGroup(click.Group):
    """Turns ZooError into click's one-line ``Error: ...`` and any other exception into one line too."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ZooError as exc:
            raise click.ClickException(_one_line(exc)) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except OSError as exc:  # the machine's answer (a full disk, a permission): say it, no traceback
            where = f": {exc.filename}" if exc.filename else ""
            raise click.ClickException(f"{exc.strerror or _one_line(exc)}{where}") from None
        except Exception as exc:
            if os.environ.get("ZOO_DEBUG"):
                raise
            raise click.ClickException(f"{type(exc).__name__}: {_one_line(exc)} (set ZOO_DEBUG=1 for the traceback)") from None


@click.group(cls=ZooGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="zoo")
def cli():
    """zoo: a plugin-based generative model zoo on PyTorch.

    \b
    Quick start:
      zoo list                      what is installed
      zoo train dcgan               train on the bundled MNIST subset
      zoo data                      the datasets, and which are downloaded
      zoo sample runs/dcgan-* -n 64 --out samples.png
    """


_commands_added = False


def get_cli() -> click.Group:
    """The group with zoo's commands and every plugin's (added once per process)."""
    global _commands_added
    if not _commands_added:
        _commands_added = True
        from zoo.registry.plugin_host import call_hook

        from . import bench, data, evaluate, export, inspect_commands, push, runs, sample, scaffold, train

        for command in (inspect_commands.list_registered, inspect_commands.info, inspect_commands.plugins,
                        scaffold.new_plugin, data.data, train.train, runs.runs, sample.sample, sample.reconstruct,
                        evaluate.evaluate, export.export, push.push, bench.bench):
            cli.add_command(command)
        call_hook("register_commands", cli=cli)
    return cli


def main(argv: list[str] | None = None) -> None:
    """Entry point: one line on stderr and a non-zero exit for every error: 2 for a usage error (click's), 1 for
    any other, 130 for Ctrl-C or SIGTERM. The library's log records and warnings show as ``zoo: ...`` lines
    (:func:`zoo.cli.terminal.terminal_output`)."""
    with terminal_output():
        _main(argv)


def _main(argv: list[str] | None) -> None:
    group = get_cli()
    if not (sys.argv[1:] if argv is None else argv):  # bare `zoo`: the help, as it is, not an error
        click.echo(group.get_help(click.Context(group, info_name="zoo")))
        sys.exit(0)
    try:
        code = group.main(args=argv, prog_name="zoo", standalone_mode=False)
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
        _say(exc.format_message() + hint)
        sys.exit(exc.exit_code)
    except Interrupted as exc:
        if exc.message:
            click.echo(exc.message, err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        _say(exc.format_message())
        sys.exit(exc.exit_code)
    except (click.Abort, KeyboardInterrupt):
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except ZooError as exc:  # from plugin discovery in strict mode, before any command ran
        _say(str(exc))
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
