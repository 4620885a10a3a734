"""Errors a user can act on. The CLI prints these as one line, never a traceback."""


class ZooError(Exception):
    """Base for every error zoo reports to a user."""


class PluginError(ZooError):
    """A plugin failed to import or raised in a hook (fatal only with ZOO_STRICT_PLUGINS=1)."""


class ConfigError(ZooError):
    """A configuration key or value does not fit the architecture's config."""


class DataError(ZooError):
    """A dataset is unknown, missing, empty or of a shape the model cannot use."""


class CheckpointError(ZooError):
    """A checkpoint file is missing, corrupt, not zoo's, or needs a plugin that is not installed."""


class TrainingError(ZooError):
    """Training cannot go on (for example a loss became NaN)."""


class ZooWarning(UserWarning):
    """Something a user should change (a precision that is emulated here, a plugin that failed or that shares a
    name). Raised with :func:`warnings.warn`: the ``zoo`` command prints it as ``zoo: warning: ...``; a program
    silences it with ``warnings.filterwarnings("ignore", category=zoo.ZooWarning)``. Information that asks for
    nothing goes to :mod:`logging` instead, under the ``zoo`` logger."""

    label = "warning"


class ZooNote(ZooWarning):
    """A ZooWarning that is a notice, not a fault: a plugin's registration took over a name zoo's own uses. The
    ``zoo`` command prints it as ``zoo: note: ...``."""

    label = "note"
