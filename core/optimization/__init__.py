"""How a model's optimisers step under a run's settings: :class:`~zoo.optimization.steps.OptimizerSteps` (the
precision's autocast and loss scaling, gradient accumulation, clipping and averaging over processes, and their
state). It sits at the bottom of the tree: the architecture base steps through it, the trainer builds it."""
