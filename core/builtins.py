"""zoo's own registrations, made through the same hooks a third-party plugin uses (entry point ``zoo``)."""

from __future__ import annotations

from zoo.hookspecs import hookimpl


@hookimpl
def register_datasets(register):
    from zoo.datasets import bundled, cifar, download

    def idx(dataset):
        return {"files": lambda: [download.cached(dataset.name, f) for f in (dataset.images, dataset.labels)],
                "images": 60_000, "shape": (1, 28, 28), "classes": len(dataset.classes)}

    def archive(name):
        return {"files": lambda: cifar.converted(getattr(cifar, name)), "images": 50_000, "shape": (3, 32, 32)}

    register("mnist", bundled.load_mnist_5k, summary="MNIST subset shipped with zoo: 5,000 digits, 500 per class",
             files=lambda: [str(bundled.PATH)], bundled=True, images=5000, shape=(1, 28, 28), classes=10)
    register("mnist-full", lambda: download.load_remote(download.MNIST_FULL), summary="MNIST, 60,000 digits (downloaded once)",
             **idx(download.MNIST_FULL))
    register("fashion-mnist", lambda: download.load_remote(download.FASHION_MNIST),
             summary="Fashion-MNIST, 60,000 clothes (downloaded once)", **idx(download.FASHION_MNIST))
    register("cifar10", lambda: cifar.load(cifar.CIFAR10), summary="CIFAR-10: 50,000 32x32 colour images, 10 classes "
             "(binary archive, downloaded once)", classes=10, **archive("CIFAR10"))
    register("cifar100", lambda: cifar.load(cifar.CIFAR100), summary="CIFAR-100: 50,000 32x32 colour images, 100 "
             "classes (binary archive, downloaded once)", classes=100, **archive("CIFAR100"))


@hookimpl
def register_losses(register):
    from zoo import losses

    for loss in losses.BUILTIN:
        register(loss.name, loss)


@hookimpl
def register_penalties(register):
    from zoo import penalty

    register("gradient-penalty", penalty.gradient_penalty, summary="WGAN-GP: (||grad D||_2 - 1)^2 at random interpolates")
    register("r1", penalty.r1_penalty, summary="R1: ||grad D||_2^2 at real images (penalty_weight = gamma / 2)")


@hookimpl
def register_callbacks(register):
    from zoo.training import default_callbacks as callbacks

    register("metrics", callbacks.MetricsLog, summary="append averaged losses and images/s to metrics.jsonl", default=True)
    register("validation", callbacks.Validation, summary="log the model's held-out figures at each sample interval", default=True)
    register("samples", callbacks.SampleGrids, summary="save samples/step-NNNNNN.png from a fixed noise batch", default=True)
    register("evaluation", callbacks.Evaluation, summary="zoo eval figures every --eval-every steps, eval.json at the end", default=True)
    register("checkpoints", callbacks.Checkpointing, summary="save checkpoint.safetensors atomically", default=True)
    register("loss-plot", callbacks.LossPlot, summary="draw losses.png when training ends", default=True)
    register("report", callbacks.ReportPage, summary="write report.html: config, losses, grids over time, evaluation", default=True)


@hookimpl
def register_feature_extractors(register):
    from zoo.evaluation import classifier, inception

    register("classifier", classifier.DomainFeatures, summary="a small CNN zoo trains on the dataset's labelled training split")
    register("inception", inception.InceptionFeatures,
             summary="the FID Inception-v3 of pytorch-fid/torch-fidelity (2015-12-05 weights, downloaded once, sha256-pinned)")


@hookimpl
def register_samplers(register):
    from zoo.samplers.options import DDIMOptions, DPMSolverOptions, TimeShiftOptions

    diffusion, every = ("epsilon", "v"), ("epsilon", "v", "velocity")
    register("ddim", "zoo.samplers.diffusion:ddim", serves=diffusion, options=DDIMOptions,
             summary="DDIM (Song et al. 2021): deterministic, or some fresh noise with eta; 1 evaluation a step")
    register("ddpm", "zoo.samplers.diffusion:ancestral", serves=diffusion,
             summary="DDPM's ancestral sampler (Ho et al. 2020): fresh noise at each step; 1 evaluation a step")
    register("euler", "zoo.samplers.flow:euler", serves=("velocity",), options=TimeShiftOptions,
             summary="Euler's method on the flow's ODE: 1st order, 1 evaluation a step")
    register("heun", "zoo.samplers.flow:heun", serves=("velocity",), options=TimeShiftOptions,
             evaluations=lambda steps: 2 * steps - 1,
             summary="Heun's method on the flow's ODE: 2nd order, 2 evaluations a step (1 onto the image)")
    register("dpm-solver++", "zoo.samplers.dpm_solver:dpm_solver_pp", serves=every, options=DPMSolverOptions,
             summary="DPM-Solver++(2M) (Lu et al. 2022): multistep 2nd order in data prediction, 1 evaluation a step")
