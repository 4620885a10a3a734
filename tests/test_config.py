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


def test_set_needs_key_equals_value():
    with pytest.raises(ConfigError, match="key=value"):
        parse_assignments(["size"])


def test_describe_lists_fields_with_help_in_order():
    assert [(f.name, f.help) for f in describe(Cfg)][:2] == [("size", "how big"), ("rate", "how fast")]
