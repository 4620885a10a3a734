"""``zoo list``, ``zoo info`` and ``zoo plugins``: what is installed, without training anything."""

from __future__ import annotations

import dataclasses
import json

import click

import zoo
from zoo.registry import plugin_host
from zoo.cli import sampler_info
from zoo.registry.lookup import KINDS, registered


def format_table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in rows + [headers]) for i in range(len(headers))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


@click.command("list")
@click.argument("pattern", default="*")
@click.option("--kind", type=click.Choice(list(KINDS)), default="models", show_default=True, help="What to list.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_registered(pattern, kind, as_json):
    """List registered architectures, or with --kind the losses, penalties, datasets, callbacks, feature
    extractors or samplers (optionally those matching PATTERN, e.g. '*gan*')."""
    table = registered(kind)
    regs = [table[name] for name in zoo.list_registered(kind, pattern)]
    if as_json:
        click.echo(json.dumps([{"name": r.name, "summary": r.summary, "plugin": r.plugin,
                                "distribution": r.distribution, "version": r.version} for r in regs], indent=2))
    elif regs:
        click.echo(format_table([[r.name, r.summary, r.distribution, r.version] for r in regs],
                          ["NAME", "SUMMARY", "PLUGIN", "VERSION"]))
    else:
        hint = " Install a plugin, e.g. pip install -e plugins/dcgan" if kind == "models" else ""
        click.echo(f"No {kind} are registered{' matching ' + repr(pattern) if pattern != '*' else ''}.{hint}", err=True)


def _is_stored(name: str) -> bool:
    from pathlib import Path

    return name.startswith("hf:/") or Path(name).exists()


def stored_model(source: str) -> dict:
    """What a run, checkpoint or model folder holds, read from its files alone (no plugin needed)."""
    from pathlib import Path

    from zoo.store.checkpoint import left_out, load_checkpoint

    ckpt = load_checkpoint(source)
    networks: dict[str, int] = {}
    for key, tensor in ckpt.group("model.").items():
        if tensor.is_floating_point():
            networks[key.split(".", 1)[0]] = networks.get(key.split(".", 1)[0], 0) + tensor.numel()
    distribution = ckpt.meta.get("plugin_distribution")
    kind = "model folder" if ckpt.path.is_dir() else "run" if Path(source).is_dir() else "checkpoint"
    return {"source": source, "kind": kind,
            "model": ckpt.architecture, "installed": ckpt.architecture in zoo.list_models(), "step": ckpt.step,
            "plugin": {"distribution": distribution, "version": ckpt.meta.get("plugin_version")},
            "data_shape": ckpt.json("data_shape"), "num_classes": ckpt.json("num_classes"),
            "classes": ckpt.json("classes") if "classes" in ckpt.meta else None, "dataset": ckpt.meta.get("dataset"),
            "dtype": ckpt.meta.get("dtype", "float32"), "networks": networks, "left_out": left_out(ckpt),
            "config": ckpt.json("config")}


def _echo_stored(about: dict) -> None:
    plugin = about["plugin"]
    click.echo(f"{about['source']}: a {about['kind']} of {about['model']}, step {about['step']}")
    missing = "" if about["installed"] else f" (not installed: pip install {plugin['distribution'] or 'its plugin'})"
    click.echo(f"plugin: {plugin['distribution'] or '?'} {plugin['version'] or ''}".rstrip() + missing)
    click.echo("data: " + "x".join(map(str, about["data_shape"])) + (f" images of {about['dataset']}" if about["dataset"] else " images")
               + (f", {about['num_classes']} classes" if about["num_classes"] else ""))
    click.echo(f"weights ({about['dtype']}):")
    for net, count in about["networks"].items():
        click.echo(f"  {net}: {count:,} parameters and buffers")
    if about["left_out"]:
        click.echo(f"  left out (training only): {', '.join(about['left_out'])}")
    click.echo("config: " + ", ".join(f"{k}={v!r}" for k, v in about["config"].items()))


def _echo_callbacks(names: list[str], as_json: bool) -> None:
    from zoo.registry.configs import describe_options
    from zoo.registry.lookup import lookup

    about = {}
    for name in names:
        reg = lookup("callbacks", name)
        about[name] = {"summary": reg.summary, "distribution": reg.distribution, "version": reg.version,
                       "default": bool(reg.extras.get("default")),
                       "options": {f.name: {"type": f.type_name, "default": None if f.default is dataclasses.MISSING
                                            else f.default, "required": f.default is dataclasses.MISSING,
                                            "minimum": f.minimum, "maximum": f.maximum, "help": f.help}
                                   for f in describe_options(reg.value)}}
    if as_json:
        click.echo(json.dumps(about, indent=2))
        return
    for name, what in about.items():
        click.echo(f"{name}: {what['summary']} ({what['distribution']} {what['version']}"
                   f"{'; every run has it' if what['default'] else ''})")
        options = what["options"]
        if not options:
            click.echo("  no options")
            continue
        click.echo(format_table([[f"  {key}", o["type"], "(required)" if o["required"] else repr(o["default"]),
                                  _bounds(o), o["help"]] for key, o in options.items()],
                                ["  OPTION", "TYPE", "DEFAULT", "RANGE", "HELP"]))


def _bounds(option: dict) -> str:
    low, high = option["minimum"], option["maximum"]
    return "" if low is None and high is None else f"{'' if low is None else low}..{'' if high is None else high}"


@click.command()
@click.argument("name", required=False)
@click.option("--kind", type=click.Choice(["models", "callbacks", "samplers"]), default="models", show_default=True,
              help="What NAME is; callbacks: their options (zoo train --callback NAME:key=value), all without NAME; "
                   "samplers: what it serves, its cost and options (a sampler that no model's name hides needs none).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def info(name, kind, as_json):
    """Describe architecture NAME (summary, networks, default config with help), sampler NAME (what it serves,
    its cost and options), or the model a run folder,
    checkpoint, model folder or hf://owner/name holds (architecture, plugin, data, weights, config); with
    --kind callbacks, callback NAME's options (every callback's without NAME)."""
    if kind == "callbacks":
        _echo_callbacks([name] if name else zoo.list_registered("callbacks"), as_json)
        return
    if name is None:
        raise click.UsageError("give the NAME of a model, run or checkpoint (or --kind callbacks)")
    if kind == "samplers" or (name in registered("samplers") and name not in zoo.list_models()):
        return sampler_info.echo(name, as_json, format_table)  # a registered name before a folder, as for models
    if _is_stored(name) and name not in zoo.list_models():
        about = stored_model(name)
        if as_json:
            click.echo(json.dumps(about, indent=2))
        else:
            _echo_stored(about)
        return
    spec = zoo.get_model(name)
    model = zoo.create_model(name, data_shape=spec.data_shapes[0], num_classes=10 if spec.is_conditional() else None)
    networks = {net: sum(p.numel() for p in module.parameters()) for net, module in model.networks.items()}
    fields, sampling = spec.describe_config(), sampler_info.sampling_fields(spec, model)
    if as_json:
        click.echo(json.dumps({
            "name": spec.name, "summary": spec.summary, "distribution": spec.distribution, "version": spec.version,
            "data_shapes": [list(s) for s in spec.data_shapes], "train_defaults": spec.train_defaults,
            "networks": networks, "config": {f.name: {"type": f.type_name, "default": f.default, "help": f.help} for f in fields},
            "sampling": {f.name: {"type": f.type_name, "default": f.default, "help": f.help} for f in sampling},
        }, indent=2))
        return
    click.echo(f"{spec.name}: {spec.summary}")
    click.echo(f"plugin: {spec.plugin} ({spec.distribution} {spec.version})")
    click.echo("data shapes: " + ", ".join("x".join(map(str, s)) for s in spec.data_shapes))
    if spec.train_defaults:
        click.echo("training defaults: " + ", ".join(f"{k}={v}" for k, v in spec.train_defaults.items()))
    click.echo(f"networks (for {'x'.join(map(str, spec.data_shapes[0]))}):")
    for net, count in networks.items():
        click.echo(f"  {net}: {count:,} parameters")
    click.echo("config (zoo train --set key=value):")
    click.echo(format_table([[f"  {f.name}", f.type_name, repr(f.default), f.help] for f in fields], ["  KEY", "TYPE", "DEFAULT", "HELP"]))
    if sampling:
        click.echo("sampling options (zoo sample / zoo eval --option value):")
        click.echo(format_table([[f"  --{f.name.replace('_', '-')}", f.type_name, repr(f.default), f.help] for f in sampling],
                                ["  OPTION", "TYPE", "DEFAULT", "HELP"]))


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def plugins(ctx, as_json):
    """List installed plugins: distribution, version, what each registered, load errors, and names two plugins
    share (ambiguous: neither is used) or that a plugin took over from zoo's own (the plugin's is used).

    'zoo plugins check' runs zoo's conformance checks on them."""
    if ctx.invoked_subcommand is not None:
        return
    provided: dict[str, dict[str, list[str]]] = {}
    for kind in KINDS:  # runs every registration hook, so hook failures show up below
        for name, reg in sorted(registered(kind).items()):
            provided.setdefault(reg.plugin, {}).setdefault(kind, []).append(name)
    infos = plugin_host.list_plugins()
    if as_json:
        click.echo(json.dumps([{"name": i.name, "distribution": i.distribution, "version": i.version,
                                "hooks": i.hooks, "registered": provided.get(i.name, {}), "errors": i.errors,
                                "notes": i.notes, "import_seconds": i.import_seconds}
                               for i in infos], indent=2))
        return
    rows = []
    for i in infos:
        what = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in provided.get(i.name, {}).items())
        seconds = "-" if i.import_seconds is None else f"{i.import_seconds:.2f}s"
        rows.append([i.name, i.distribution, i.version, seconds, what or ", ".join(i.hooks) or "-", "; ".join(i.errors + i.notes) or "ok"])
    click.echo(format_table(rows, ["PLUGIN", "DISTRIBUTION", "VERSION", "IMPORT", "REGISTERED", "STATUS"]))


@plugins.command("check")
@click.argument("distributions", nargs=-1)
def check(distributions):
    """Run zoo's conformance checks (zoo.testing) on what the installed DISTRIBUTIONS register (default: every
    plugin but zoo-core): architectures, losses, penalties, datasets, callbacks, feature spaces and samplers. Exits 1
    on a failure."""
    import tempfile
    import time
    from pathlib import Path

    from zoo import testing

    targets = []
    for kind in ("models", "losses", "penalties", "datasets", "callbacks", "features", "samplers"):
        for name, reg in sorted(registered(kind).items()):
            if (reg.distribution in distributions) if distributions else reg.distribution != "zoo-core":
                targets.append((kind, name))
    unknown = set(distributions) - {reg.distribution for kind in KINDS for reg in registered(kind).values()}
    if unknown:
        raise click.ClickException(f"no installed plugin distribution registers anything as {', '.join(sorted(unknown))}")
    if not targets:
        click.echo("nothing to check: no plugin besides zoo-core is installed", err=True)
        return
    checks = {"models": list(testing.ARCHITECTURE_CHECKS), "losses": [testing.check_loss],
              "penalties": [testing.check_penalty],
              "datasets": [testing.check_dataset], "callbacks": [testing.check_callback],
              "features": [testing.check_feature_extractor], "samplers": [testing.check_sampler]}
    runs = [(f"{KINDS[kind].name} {name}", name, check) for kind, name in targets for check in checks[kind]]
    width = [max(len(target) for target, _, _ in runs), max(len(check.__name__) for _, _, check in runs)]
    click.echo(f"{len(runs)} checks of {len(targets)} registrations, each printed as it finishes")
    failed = 0
    for target, name, check in runs:  # a line per check as it ends: all of them can take minutes on a busy core
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            try:
                check(name, Path(tmp))
                result = "ok"
            except Exception as exc:  # a failed check is a line of the report, not the end of the run
                failed += 1
                result = f"FAILED: {type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:120]}"
        click.echo(f"{target.ljust(width[0])}  {check.__name__.ljust(width[1])}  "
                   f"{time.perf_counter() - started:6.1f}s  {result}")
    click.echo(f"{len(runs) - failed} passed, {failed} failed")
    if failed:
        raise SystemExit(1)
