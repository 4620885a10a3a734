"""Names: a newer core never takes a name away from an installed plugin. A plugin's registration replaces zoo's
own of the same kind and name, with one notice; two plugins (neither zoo) with one name stay ambiguous."""

import json
import sys

import pytest
from fake_dist import write_plugin

import zoo
from zoo.registry import lookup
from zoo.registry import plugin_host as plugins

# An SN-GAN plugin written against API 1.0, when the core had no relativistic loss: its own 'ragan', with the
# first wave's generator(fake).
SNGAN = """
    import torch.nn.functional as F
    import zoo

    used = []

    class RaGAN:
        def discriminator(self, real, fake):
            used.append("discriminator")
            return F.softplus(-(real - fake.mean())).mean() + F.softplus(fake - real.mean()).mean()

        def generator(self, fake):
            used.append("generator")
            return F.softplus(-fake).mean()

    @zoo.hookimpl
    def register_losses(register):
        register("ragan", RaGAN(), summary="SN-GAN's relativistic loss")
"""

NOTICE = "zoo: note: loss 'ragan' of zoo-sngan 1.0 (plugin 'sngan') replaces zoo's own"


def zoos_own() -> dict[str, list[str]]:
    """Every name zoo's own plugin registers, by kind."""
    return {kind: sorted(n for n, reg in lookup.registered(kind).items() if reg.plugin == plugins.BUILTIN_PLUGIN)
            for kind in lookup.KINDS}


def test_a_plugin_written_before_the_core_had_ragan_trains_with_its_own(site, register_plugin, zoo_cli, tiny_npz, tmp_path):
    write_plugin(site, "zoo-sngan", "1.0", "zoo_sngan", SNGAN, entry_name="sngan")
    plugins.reset()
    from toy import ToyPlugin

    register_plugin(ToyPlugin(), "toy")
    code, _, err = zoo_cli("train", "toy-gan", "--data", tiny_npz, "--steps", "2", "--set", "loss=ragan",
                           "--out", tmp_path / "run", "--quiet")
    assert code == 0, err
    assert err.splitlines() == [NOTICE]  # one notice, no warning, no failure
    used = sys.modules["zoo_sngan"].used
    assert "discriminator" in used and "generator" in used  # the plugin's loss trained the model


def test_every_name_of_zoos_own_is_taken_over_by_a_plugin_with_one_notice_each(site, capsys, monkeypatch, register_plugin):
    own = zoos_own()
    added_since_api_1_0 = {"losses": {"ragan", "rahinge"}, "penalties": {"r1"}, "datasets": {"cifar10", "cifar100"},
                           "callbacks": {"report"}, "features": {"inception"}}
    assert all(names <= set(own[kind]) for kind, names in added_since_api_1_0.items()), own
    write_plugin(site, "zoo-sngan", "1.0", "zoo_sngan", f"""
        from dataclasses import dataclass
        import zoo

        @dataclass
        class Config:
            size: int = 1

        class Stand:  # passes every kind's check: a loss, a callable, an architecture factory
            def __call__(self, *args, **kwargs):
                return None

            def discriminator(self, real, fake):
                return None

            def generator(self, fake):
                return None

        OWN = {json.dumps(own)}
        for kind, hook in {json.dumps({k.plural: k.hook for k in lookup.KINDS.values()})}.items():
            def implementation(register, names=OWN[kind]):
                for name in names:
                    register(name, Stand(), config=Config, summary="the plugin's own", serves=("epsilon",))
            globals()[hook] = zoo.hookimpl(implementation, specname=hook)
    """, entry_name="sngan")
    monkeypatch.setenv("ZOO_STRICT_PLUGINS", "1")  # a notice, not a failure: never fatal
    plugins.reset()
    capsys.readouterr()
    for again in range(2):
        for kind, names in own.items():
            for name in names:
                assert lookup.lookup(kind, name).plugin == "sngan", (kind, name)
        register_plugin(type("Empty", (), {})(), f"later-{again}")  # a new plugin-host state gathers the tables again
    err = capsys.readouterr().err.splitlines()
    expected = [f"zoo: note: {lookup.KINDS[kind].name} '{name}' of zoo-sngan 1.0 (plugin 'sngan') replaces zoo's own"
                for kind, names in own.items() for name in names]
    assert sorted(err) == sorted(expected)  # each once, nothing else


def test_zoo_plugins_shows_which_names_a_plugin_took_over(site, zoo_cli):
    write_plugin(site, "zoo-sngan", "1.0", "zoo_sngan", SNGAN, entry_name="sngan")
    plugins.reset()
    code, out, err = zoo_cli("plugins", "--json")
    assert code == 0 and err.splitlines() == [NOTICE]
    rows = {row["name"]: row for row in json.loads(out)}
    assert rows["sngan"]["registered"] == {"losses": ["ragan"]} and rows["sngan"]["errors"] == []
    assert rows["sngan"]["notes"] == ["replaces zoo's loss 'ragan'"]
    assert rows["zoo"]["notes"] == ["loss 'ragan' replaced by plugin 'sngan'"]
    assert "ragan" not in rows["zoo"]["registered"]["losses"]
    code, out, _ = zoo_cli("plugins")
    assert "replaces zoo's loss 'ragan'" in out
    code, out, _ = zoo_cli("list", "--kind", "losses", "ragan")
    assert "zoo-sngan" in out and "zoo-core" not in out


def test_two_plugins_with_one_name_stay_ambiguous(site, capsys, zoo_cli):
    write_plugin(site, "zoo-sngan", "1.0", "zoo_sngan", SNGAN, entry_name="sngan")
    write_plugin(site, "zoo-other", "2.0", "zoo_other", SNGAN, entry_name="other")
    plugins.reset()
    assert "ragan" not in zoo.list_registered("losses")
    with pytest.raises(lookup.DuplicateNameError) as info:
        lookup.lookup("losses", "ragan")
    message = str(info.value)
    assert message.startswith("loss 'ragan' is ambiguous: registered by both ") and message.endswith("; uninstall one")
    assert "zoo-sngan 1.0 (plugin 'sngan')" in message and "zoo-other 2.0 (plugin 'other')" in message
    assert "zoo-core" not in message  # zoo's own is beside the point
    err = capsys.readouterr().err.splitlines()
    assert err == [f"zoo: warning: {message}"]  # once; no exception class, no plugin said to have failed
    code, out, _ = zoo_cli("plugins", "--json")
    rows = {row["name"]: row for row in json.loads(out)}
    assert rows["sngan"]["notes"] == rows["other"]["notes"] == [message]
    assert rows["sngan"]["errors"] == rows["other"]["errors"] == []
