"""What the ``zoo`` command prints on stderr besides a command's own output: the library's log records and warnings,
in the words zoo has always used, and :class:`Interrupted`, the stop that says where a command stopped.

The library only logs (``logging.getLogger("zoo....")``) and warns (:class:`zoo.ZooWarning`); it installs no
handler. While a command runs, :func:`terminal_output` shows an information record as ``zoo: <message>`` and a
ZooWarning as ``zoo: warning: <message>`` (``zoo: note: ...`` for a :class:`zoo.errors.ZooNote`), every time it is
raised, on the stderr of the moment, and from rank 0 alone under torchrun. Other warnings are shown as Python
shows them.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import warnings

import click

from zoo.errors import ZooWarning
from zoo.training.distributed import is_rank_zero


class Interrupted(click.ClickException):
    """A command stopped by Ctrl-C or SIGTERM part way, with the line that says where it stopped and how to go on
    (empty: nothing to say, e.g. from a rank other than the writer); exit 130, as a shell reports SIGINT."""

    exit_code = 130


def _write(line: str) -> None:
    sys.stderr.write(line + "\n")  # sys.stderr as it is now: a test's capture, or a redirection made after start
    sys.stderr.flush()


class _Terminal(logging.Handler):
    """``zoo: <message>`` for information; ``zoo: <level>: <message>`` for a record of level WARNING or above."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level = "" if record.levelno <= logging.INFO else record.levelname.lower() + ": "
            _write(f"zoo: {level}{record.getMessage()}")
        except Exception:
            self.handleError(record)


@contextlib.contextmanager
def terminal_output():
    """Show zoo's log records and warnings on stderr, as above, until the block ends (then as before). Nested
    blocks show each message once."""
    logger = logging.getLogger("zoo")
    if any(isinstance(handler, _Terminal) for handler in logger.handlers):
        yield
        return
    handler, level = _Terminal(), logger.level
    handler.addFilter(lambda record: is_rank_zero())
    with warnings.catch_warnings():  # the filters and showwarning come back as they were
        shown = warnings.showwarning

        def show(message, category, filename, lineno, file=None, line=None):
            if not issubclass(category, ZooWarning):
                shown(message, category, filename, lineno, file, line)
            elif is_rank_zero():
                _write(f"zoo: {category.label}: {message}")

        warnings.filterwarnings("always", category=ZooWarning, append=True)  # each time, as before; -W still rules
        warnings.showwarning = show
        logger.addHandler(handler)
        if logger.level == logging.NOTSET:  # a level set on purpose (in a program that calls main) stays
            logger.setLevel(logging.INFO)
        try:
            yield
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
