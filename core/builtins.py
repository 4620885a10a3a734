"""zoo's own registrations, made through the same hooks a third-party plugin uses (entry point ``zoo``)."""

from __future__ import annotations

from .hookspecs import hookimpl


@hookimpl
def register_datasets(register):
    from .datasets import bundled, download

    register("mnist", bundled.load_mnist_5k, summary="MNIST subset shipped with zoo: 5,000 digits, 500 per class")
    register("mnist-full", lambda: download.load_remote(download.MNIST_FULL), summary="MNIST, 60,000 digits (downloaded once)")
    register("fashion-mnist", lambda: download.load_remote(download.FASHION_MNIST), summary="Fashion-MNIST, 60,000 clothes (downloaded once)")


@hookimpl
def register_losses(register):
    from . import losses

    for loss in losses.BUILTIN:
        register(loss.name, loss)


@hookimpl
def register_penalties(register):
    from . import penalty

    register("gradient-penalty", penalty.gradient_penalty, summary="WGAN-GP: (||grad D||_2 - 1)^2 at random interpolates")


@hookimpl
def register_callbacks(register):
    from . import callbacks

    register("metrics", callbacks.MetricsLog, summary="append averaged losses and images/s to metrics.jsonl", default=True)
    register("validation", callbacks.Validation, summary="log the model's held-out figures at each sample interval", default=True)
    register("samples", callbacks.SampleGrids, summary="save samples/step-NNNNNN.png from a fixed noise batch", default=True)
    register("checkpoints", callbacks.Checkpointing, summary="save checkpoint.safetensors atomically", default=True)
    register("evaluation", callbacks.Evaluation, summary="zoo eval figures every --eval-every steps, eval.json at the end", default=True)
    register("loss-plot", callbacks.LossPlot, summary="draw losses.png when training ends", default=True)
    register("report", callbacks.Report, summary="write report.html: config, losses, grids over time, evaluation", default=True)


@hookimpl
def register_feature_extractors(register):
    from .evaluation import classifier

    register("classifier", classifier.DomainFeatures, summary="a small CNN zoo trains on the dataset's labelled training split")
