"""Training: the options (``options``), the plan of a new or resumed run (``plan``, with the checks it shares with
the Trainer, ``checks``, and the weights of ``--init-from``, ``init_from``), the one loop (``trainer``) with the
callbacks' hooks it runs (``hooks``), which callbacks a run has (``callback_specs``) and zoo's own
(``default_callbacks``), and what a run needs around the loop: batches (``batches``), devices (``devices``),
precision (``precision``), the optimisers' set-up and rates (``optimizers``), a wall-clock budget (``budget``),
SIGINT and SIGTERM (``signals``), several processes (``distributed``), the run record (``record``) and the
training state in a checkpoint (``resume``)."""
