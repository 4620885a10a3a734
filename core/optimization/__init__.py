"""How a model's optimisers step under a run's settings: :class:`~zoo.optimization.steps.OptimizerSteps` (the
precision's autocast and loss scaling, gradient accumulation, clipping and averaging over processes, and their
state), and what processes exchange (:mod:`~zoo.optimization.collectives`: gradients averaged, rank 0's tensors
copied, and the collectives a plugin calls for state that is not a parameter). It sits at the bottom of the tree:
the architecture base steps through it, the trainer builds it."""
