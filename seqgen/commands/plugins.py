"""List installed plugins and their configs."""

import json

from seqgen import plugins


def add_arguments(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print a JSON list of {name, version, configs}")


def run(args) -> int:
    found = plugins.plugins()
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    if not found:
        print("no plugins installed")
    for plugin in found:
        print(f"{plugin['name']} {plugin['version']}: {', '.join(plugin['configs']) or 'no configs'}")
    return 0
