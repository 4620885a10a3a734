"""Training: the options (``options``), the plan of a new or resumed run (``plan``), the one loop (``trainer``),
zoo's default callbacks, and what a run needs around the loop (batches, devices, several processes, the run
record, the training state in a checkpoint)."""
