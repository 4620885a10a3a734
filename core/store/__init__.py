"""What zoo keeps on disk: the run folder (``run_folder``, standard library only), safetensors checkpoints
(``checkpoint``; their header alone, without torch: ``safetensors_header``), model folders (``model_folder``; the
weights they keep, ``export_weights``; on the Hugging Face Hub, ``hub``), atomic writes (``atomic``), a lock
across processes (``file_lock``), files zoo finds rather than was handed (``regular_files``), one version of a
file another process replaces (``stable_read``), finite tensors of the dtype their file declares
(``tensor_checks``) and the cache folder (``paths``)."""
