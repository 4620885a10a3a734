"""``zoo eval``'s room: the harness (:mod:`zoo.evaluation.harness`), the metrics (``metrics``), a conditional
model's label figures (``conditional``, ``cas``), the feature spaces (``classifier``; ``inception`` with its
network, ``inception_net``), the real images' cached features (``feature_cache``), seeded subsets of large
datasets (``subsets``), the one-thread training of its small networks (``threads``) and whether two results
compare (``comparable``).

The harness's names are importable from here as before (``from zoo.evaluation import evaluate``); importing this
package alone loads neither torch nor numpy.
"""

from importlib import import_module

_FROM = {"mismatch": "zoo.evaluation.comparable", "COMPARABLE": "zoo.evaluation.comparable"}
_SUBMODULES = {"harness", "comparable", "metrics", "classifier", "inception", "inception_net", "feature_cache", "figures",
               "conditional", "cas", "subsets", "threads"}


def __getattr__(name: str):
    if name in _SUBMODULES or name.startswith("__"):  # let the import system load a submodule itself
        raise AttributeError(f"module 'zoo.evaluation' has no attribute {name!r}")
    module = import_module(_FROM.get(name, "zoo.evaluation.harness"))
    try:
        return getattr(module, name)
    except AttributeError:
        raise AttributeError(f"module 'zoo.evaluation' has no attribute {name!r}") from None
