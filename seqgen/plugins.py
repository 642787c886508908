"""Plugin discovery and the registry of configs.

Plugins are found through the ``seqgen`` entry-point group; ``SEQGEN_LOAD_PLUGINS=name,...`` limits
which load (an empty value loads none). Tests and scripts may also ``manager().register(obj, name)``.
"""

import functools
import importlib.metadata
import os

import attrs
import pluggy

from seqgen import hookspecs
from seqgen.errors import SeqgenError

ENTRY_POINT_GROUP = "seqgen"


def _entry_points() -> dict:
    found = {}
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name in found and found[entry_point.name].value != entry_point.value:
            raise SeqgenError(
                f"two installed packages register a seqgen plugin named {entry_point.name!r} "
                f"({found[entry_point.name].value} and {entry_point.value}); uninstall one of them")
        found[entry_point.name] = entry_point
    return found


@functools.cache
def manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, with the installed plugins loaded."""
    pm = pluggy.PluginManager("seqgen")
    pm.add_hookspecs(hookspecs)
    available = _entry_points()
    wanted = os.environ.get("SEQGEN_LOAD_PLUGINS")
    names = sorted(available) if wanted is None else [n.strip() for n in wanted.split(",") if n.strip()]
    for name in names:
        if name not in available:
            raise SeqgenError(f"SEQGEN_LOAD_PLUGINS names unknown plugin {name!r}; "
                              f"installed plugins: {', '.join(sorted(available)) or 'none'}")
        pm.register(available[name].load(), name)
    return pm


def register(plugin, name: str) -> None:
    """Register a plugin object in-process; a taken name is refused."""
    if manager().has_plugin(name):
        raise SeqgenError(f"a plugin named {name!r} is already registered")
    manager().register(plugin, name)


def unregister(name: str) -> None:
    manager().unregister(name=name)


def _version(name: str, plugin) -> str:
    entry_point = _entry_points().get(name)
    if entry_point is not None and entry_point.dist is not None:
        return entry_point.dist.version
    return getattr(plugin, "__version__", "unknown")


def _plugin_configs(plugin) -> list:
    found = []
    hook = getattr(plugin, "register_configs", None)
    if hook is not None:
        hook(register=found.append)
    return found


def configs() -> dict:
    """Every registered config by id, each tagged with its plugin's name; duplicate ids are refused."""
    result = {}
    for name, plugin in sorted(manager().list_name_plugin()):
        for config in _plugin_configs(plugin):
            if config.id in result:
                raise SeqgenError(f"config {config.id!r} is registered twice, by plugins "
                                  f"{result[config.id].plugin!r} and {name!r}; remove one of them")
            result[config.id] = attrs.evolve(config, plugin=name)
    return result


def plugin_names() -> list:
    return sorted(name for name, _ in manager().list_name_plugin())


def plugins() -> list:
    """``[{name, version, configs}]`` for every loaded plugin."""
    return [{"name": name, "version": _version(name, plugin),
             "configs": [config.id for config in _plugin_configs(plugin)]}
            for name, plugin in sorted(manager().list_name_plugin())]


def check_plugin(name: str) -> None:
    if name not in plugin_names():
        raise SeqgenError(f"unknown plugin {name!r}; installed plugins: {', '.join(plugin_names()) or 'none'}")


def get_config(config_id: str, plugin: str = None):
    """The config named ``config_id`` (of ``plugin`` when given); unknown names list the valid ones."""
    if plugin:
        check_plugin(plugin)
    known = {cid: c for cid, c in configs().items() if not plugin or c.plugin == plugin}
    if config_id not in known:
        where = f" of plugin {plugin!r}" if plugin else ""
        raise SeqgenError(f"unknown config {config_id!r}{where}; valid configs: {', '.join(sorted(known)) or 'none'}")
    return known[config_id]
