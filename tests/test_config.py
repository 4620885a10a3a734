from dataclasses import dataclass

import pytest

from zoo.config import build_config, describe, option, parse_assignments
from zoo.errors import ConfigError


@dataclass
class Cfg:
    size: int = option(4, "how big")
    rate: float = option(0.5, "how fast")
    flag: bool = option(False, "on or off")
    kind: str = option("mse", "loss", choices=("mse", "bce"))


def test_strings_from_set_are_coerced_to_field_types():
    cfg = build_config(Cfg, parse_assignments(["size=8", "rate=1e-3", "flag=yes", "kind=bce"]))
    assert (cfg.size, cfg.rate, cfg.flag, cfg.kind) == (8, 1e-3, True, "bce")


def test_dashes_are_accepted_for_underscores():
    @dataclass
    class C:
        lr_g: float = 1.0

    assert build_config(C, {"lr-g": "2"}).lr_g == 2.0


@pytest.mark.parametrize("overrides, message", [
    ({"sise": "3"}, r"unknown config key 'sise'.*valid keys: size \(int\), rate \(float\), flag \(bool\), kind \(mse\|bce\)"),
    ({"size": "big"}, r"bad value 'big' for model config key 'size' \(int\)"),
    ({"size": 2.5}, r"expected an integer"),
    ({"flag": "maybe"}, r"expected true or false"),
    ({"kind": "l1"}, r"choose one of: mse, bce"),
])
def test_bad_keys_and_values_name_what_is_valid(overrides, message):
    with pytest.raises(ConfigError, match=message):
        build_config(Cfg, overrides)


@pytest.mark.parametrize("raw, message", [
    (str(2**63), r"model config key 'size' must be at most 2147483647, got 9223372036854775808"),
    (str(-2**63), r"model config key 'size' must be at least -2147483648"),
    ("1e8", None),  # as TOML reads it: a whole number
    ("1e30", r"must be at most 2147483647"),
    ("inf", r"bad value 'inf' .*: expected an integer"),
])
def test_ints_without_bounds_of_their_own_stay_32_bit(raw, message):
    if message is None:
        assert build_config(Cfg, {"size": raw}).size == 10**8
    else:
        with pytest.raises(ConfigError, match=message):
            build_config(Cfg, {"size": raw})


@pytest.mark.parametrize("model, assignment, message", [
    ("toy-gan", f"width={2**63}", "toy-gan config key 'width' must be at most 1024"),  # GANConfig's bound, no torch TypeError
    ("dcgan", f"width={2**63}", "dcgan config key 'width' must be at most 1024"),
    ("dcgan", "latent_dim=1e8", "dcgan config key 'latent_dim' must be at most 4096, got 100000000"),  # no allocation
])
def test_model_sizes_past_their_bound_are_one_line_before_anything_is_built(toy, zoo_cli, tmp_path, tiny_npz, model,
                                                                             assignment, message):
    import zoo

    if model not in zoo.list_models():
        pytest.skip(f"{model} is not installed")
    code, _, err = zoo_cli("train", model, "--data", tiny_npz, "--steps", "1", "--set", assignment, "--out", tmp_path / "run")
    assert code == 1 and err.startswith(f"Error: {message}") and err.count("\n") == 1, err
    assert not (tmp_path / "run").exists()


def test_set_needs_key_equals_value():
    with pytest.raises(ConfigError, match="key=value"):
        parse_assignments(["size"])


def test_describe_lists_fields_with_help_in_order():
    assert [(f.name, f.help) for f in describe(Cfg)][:2] == [("size", "how big"), ("rate", "how fast")]


def test_gp_weight_still_sets_the_penalty_weight(toy):
    import zoo

    model = zoo.create_model(toy, penalty="r1", gp_weight=0.5)
    assert model.config.penalty_weight == 0.5 and model.penalty_weight == 0.5 and model.penalty is not None


def test_a_config_that_declares_gp_weight_itself_keeps_it(register_plugin):
    """A plugin written before API 1.4 redeclares gp_weight to change its default: that field still weighs the
    penalty, and --set gp_weight sets it."""
    from dataclasses import dataclass

    import zoo
    from zoo.config import build_config, option
    from zoo.gan_config import GANConfig, penalty_weight

    @dataclass
    class OldConfig(GANConfig):
        gp_weight: float = option(10.0, "weight lambda of the gradient penalty")

    assert penalty_weight(OldConfig()) == 10.0
    assert penalty_weight(build_config(OldConfig, {"gp_weight": "3"})) == 3.0


def test_a_subclass_that_only_changes_a_default_inherits_the_help():
    from dataclasses import dataclass

    from zoo.config import describe, option
    from zoo.gan_config import GANConfig

    @dataclass
    class Wider(GANConfig):
        width: int = option(48)

    width = next(f for f in describe(Wider) if f.name == "width")
    base = next(f for f in describe(GANConfig) if f.name == "width")
    assert width.default == 48 and width.help == base.help and width.minimum == 1


def test_a_run_recorded_with_gp_weight_resumes(toy, zoo_cli, tmp_path, tiny_npz, monkeypatch):
    """Runs and checkpoints written before the rename say gp_weight: they resume and load as before, without a
    DeprecationWarning (data is not an API: docs/deprecations.md)."""
    import json
    import warnings

    import zoo
    from zoo import moved

    from safetensors import safe_open
    from safetensors.torch import save_file

    out = tmp_path / "run"
    flags = ["--batch-size", "8", "--sample-every", "0", "--checkpoint-every", "2", "--quiet"]
    assert zoo_cli("train", toy, "--data", tiny_npz, "--steps", "2", "--out", out, *flags)[0] == 0
    old = lambda config: {("gp_weight" if k == "penalty_weight" else k): v for k, v in config.items()}  # noqa: E731
    record = json.loads((out / "config.json").read_text())
    record["config"] = old(record["config"])
    (out / "config.json").write_text(json.dumps(record))
    with safe_open(out / "checkpoint.safetensors", "pt") as fh:
        meta, tensors = fh.metadata(), {k: fh.get_tensor(k) for k in fh.keys()}
    meta["config"] = json.dumps(old(json.loads(meta["config"])))
    save_file(tensors, out / "checkpoint.safetensors", metadata=meta)
    monkeypatch.setattr(moved, "_warned", set())  # as in a new process
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        assert zoo.load_model(out).config.penalty_weight == 0.0
        code, _, err = zoo_cli("train", "--resume", out, "--steps", "4", "--quiet")
        assert code == 0, err
        assert zoo_cli("sample", out, "-n", "4", "--out", tmp_path / "grid.png")[0] == 0


@pytest.mark.parametrize("under", ["file/x", "file"])
def test_zoo_home_at_or_under_a_file_is_named_not_a_temporary_file(zoo_cli, tmp_path, monkeypatch, under):
    import numpy as np
    from PIL import Image

    for label in ("a", "b"):
        (tmp_path / "pictures" / label).mkdir(parents=True)
        for i in range(2):
            Image.fromarray(np.full((28, 28), 60 * i, np.uint8)).save(tmp_path / "pictures" / label / f"{i}.png")
    (tmp_path / "file").write_text("not a folder")
    monkeypatch.setenv("ZOO_HOME", str(tmp_path / under))
    code, _, err = zoo_cli("data", "prepare", tmp_path / "pictures")
    assert code == 1 and err.count("\n") == 1, err
    expected = "points under a file" if under == "file/x" else "is a file, not a folder"
    assert f"Error: ZOO_HOME={tmp_path / under} {expected}" in err and ".building" not in err and ".tmp" not in err


def test_unknown_keys_and_options_suggest_the_close_ones():
    """--set widht=3 says 'did you mean', as an unknown model name does; so do callback and training options."""
    from zoo.config import build_options
    from zoo.training.options import train_config

    with pytest.raises(ConfigError, match=r"unknown config key 'sise' for model; did you mean 'size'\? valid keys: size"):
        build_config(Cfg, {"sise": "3"})
    with pytest.raises(ConfigError, match=r"unknown config key 'zzz' for model; valid keys: size"):  # nothing close
        build_config(Cfg, {"zzz": "3"})

    def factory(filename: str = "log.txt", every: int = 10):
        return None

    with pytest.raises(ConfigError, match=r"unknown option 'evry' for callback 'x'; did you mean 'every'\? it takes: "
                                          r"filename, every"):
        build_options(factory, {"evry": "2"}, "callback 'x'")
    with pytest.raises(ConfigError, match=r"unknown training option batchsize; did you mean 'batch_size'\? valid: "
                                          r"epochs, steps"):
        train_config({"batchsize": 8}, 100)


def test_old_code_reads_and_sets_gp_weight_and_old_configs_take_penalty_weight(monkeypatch):
    from dataclasses import dataclass

    import zoo
    from zoo import moved
    from zoo.config import build_config, option
    from zoo.gan_config import GANConfig, penalty_weight

    config = zoo.create_model("dcgan", width=8).config
    monkeypatch.setattr(moved, "_warned", set())
    with pytest.warns(DeprecationWarning, match="GANConfig.gp_weight is deprecated .* use GANConfig.penalty_weight"):
        assert config.gp_weight == config.penalty_weight == 1.0
        config.gp_weight = 2.0
    assert config.penalty_weight == 2.0

    @dataclass
    class OldConfig(GANConfig):
        gp_weight: float = option(10.0, "weight lambda of the gradient penalty")

    assert penalty_weight(build_config(OldConfig, {"penalty_weight": "3"})) == 3.0
    assert penalty_weight(build_config(OldConfig, {})) == 10.0


def test_a_stored_config_without_a_newer_option_means_what_it_meant_before_it():
    from dataclasses import dataclass

    from zoo.config import as_recorded, option

    @dataclass
    class Config:
        depth: int = option(2, "added in 0.5 with a new default; 0.4's networks had none", before=0)
        width: int = option(8, "always there")

    assert as_recorded(Config, {"width": 4}) == {"depth": 0, "width": 4}
    assert as_recorded(Config, {"depth": 1, "width": 4}) == {"depth": 1, "width": 4}
    assert as_recorded(Config, {}) == {"depth": 0}  # width has no before: the current default applies as always
