"""What zoo keeps on disk: the run folder (``run_folder``, standard library only), safetensors checkpoints
(``checkpoint``), atomic writes (``atomic``) and the cache folder (``paths``)."""
