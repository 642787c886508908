"""List configs with their descriptions and default hparams."""

import json

from seqgen import plugins


def add_arguments(parser) -> None:
    parser.add_argument("--plugin", help="only this plugin's configs")
    parser.add_argument("--config", help="only this config")
    parser.add_argument("--hparams", default="", help="show the config with these overrides applied")
    parser.add_argument("--json", action="store_true", help="print JSON")


def describe(config) -> dict:
    encoding = config.encoding
    return {
        "id": config.id,
        "plugin": config.plugin,
        "description": config.description,
        "steps_per_quarter": config.steps_per_quarter,
        "input_size": encoding.input_size,
        "num_classes": encoding.num_classes,
        "hparams": config.hparams.to_dict(),
        "controls": [control.describe() for control in config.controls],
    }


def run(args) -> int:
    if args.config:
        selected = [plugins.get_config(args.config, args.plugin)]
    else:
        if args.plugin:
            plugins.check_plugin(args.plugin)
        selected = [c for c in plugins.configs().values() if not args.plugin or c.plugin == args.plugin]
    found = [describe(c.with_hparams(args.hparams)) for c in selected]
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    for item in found:
        print(f"{item['id']} ({item['plugin']}): {item['description']}")
        print(
            f"  steps_per_quarter={item['steps_per_quarter']} input_size={item['input_size']} "
            f"num_classes={item['num_classes']}"
        )
        print("  hparams: " + ",".join(f"{k}={v}".replace(" ", "") for k, v in item["hparams"].items()))
        for control in item["controls"]:
            values = (
                ", ".join(control["values"]) if "values" in control else f"{control['low']:g} to {control['high']:g}"
            )
            print(f"  control {control['name']} ({control['kind']}: {values}): {control['description']}")
    return 0
