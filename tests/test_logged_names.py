"""What a run logs is named by zoo.logged: every metrics.jsonl record and trainer.history entry uses those names,
so a callback that imports them reads what zoo wrote."""

import json

import zoo
from zoo import logged
from toy import ToyConfig
from toy_model import ToyGAN


class Validated(ToyGAN):
    def validation_logs(self, images, labels):
        return {"mean": float(images.mean())}


class ValidatedPlugin:
    @zoo.hookimpl
    def register_architectures(self, register):
        register("toy-validated", Validated, config=ToyConfig, summary="the toy GAN with a held-out figure")


def test_every_record_uses_the_names_zoo_logged_gives(register_plugin, tmp_path, tiny_npz):
    register_plugin(ValidatedPlugin(), "validated")
    trainer = zoo.train("toy-validated", out=tmp_path / "run", data=str(tiny_npz), steps=4, batch_size=8,
                        log_every=2, sample_every=2)
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert records == trainer.history
    assert all(logged.STEP in r and logged.EPOCH in r for r in records)
    steps = [r for r in records if logged.TIME_SECONDS in r]
    assert [r[logged.STEP] for r in steps] == [2, 4]
    assert all(logged.IMAGES_PER_SECOND in r and {"loss_d", "loss_g"} <= set(r) for r in steps)
    assert [r[logged.STEP] for r in records if logged.heldout("mean") in r] == [2, 4]
    for record in records:  # nothing else: step figures and held-out figures (evaluation figures: test_evaluation)
        rest = set(record) - set(logged.BOOKKEEPING) - {"loss_d", "loss_g"}
        assert all(k.startswith(logged.HELDOUT_PREFIX) for k in rest), rest
