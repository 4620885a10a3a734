"""``python toy_process.py ARGS...``: runs ``zoo ARGS`` in a process of its own with the toy GAN registered and the
callback ``keep-copies``, which copies every checkpoint the run saves to ``RUN/copies/step-NNNNNN.safetensors``
(what tests/test_concurrency.py compares concurrent readers with)."""

import shutil
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
torch.set_num_threads(1)

import zoo  # noqa: E402
from toy import ToyPlugin  # noqa: E402
from zoo.registry.plugin_host import plugin_manager  # noqa: E402


class KeepCopies(zoo.Callback):
    def on_checkpoint_saved(self, trainer, path):
        copies = Path(trainer.out_dir) / "copies"
        copies.mkdir(exist_ok=True)
        if path.name == "checkpoint.safetensors":
            shutil.copyfile(path, copies / f"step-{trainer.step:06d}.safetensors")


class KeepCopiesPlugin:
    @zoo.hookimpl
    def register_callbacks(self, register):
        register("keep-copies", KeepCopies, summary="a copy of every checkpoint, by step")


if __name__ == "__main__":
    plugin_manager().register(ToyPlugin(), name="toy")
    plugin_manager().register(KeepCopiesPlugin(), name="keep-copies")
    from zoo.cli.main import main

    main(sys.argv[1:])
