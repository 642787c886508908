"""List installed plugins with their model families, configs and commands.

A plugin that fails to import is listed as broken, with its error; the other plugins work without it.
"""

import json

from seqgen import plugins


def add_arguments(parser) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        help="print a JSON list of {name, version, models, configs, commands, error} "
        "(error: null, or why a broken plugin fails to import)",
    )


def run(args) -> int:
    found = plugins.plugins()
    every = plugins.configs()
    for plugin in found:
        plugin["controls"] = {
            config_id: [c.describe() for c in every[config_id].controls]
            for config_id in plugin["configs"]
            if every[config_id].controls
        }
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    if not found:
        print("no plugins installed")
    for plugin in found:
        if plugin["error"]:
            print(
                f"{plugin['name']} {plugin['version']}: broken, fails to import ({plugin['error']}); reinstall or "
                f"uninstall it"
            )
            continue
        parts = [f"{kind} {', '.join(plugin[kind])}" for kind in ("models", "configs", "commands") if plugin[kind]]
        print(f"{plugin['name']} {plugin['version']}: {'; '.join(parts) or 'nothing registered'}")
    return 0
