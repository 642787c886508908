"""Plugin discovery and the registries of model families, configs and commands.

Plugins are found through the ``seqgen`` entry-point group; ``SEQGEN_LOAD_PLUGINS=name,...`` limits
which load (an empty value loads none). seqgen's own families and commands come from
:mod:`seqgen.default_plugin`, always loaded under the name ``seqgen``. Tests and scripts may also
``register(obj, name)`` in-process. Every hook is called through pluggy; a registry asks each plugin in
turn so it knows who registered what, refuses a name registered twice, and lists the valid names when
an unknown one is asked for.

What a plugin registers is checked when the registry is first asked (at every command's start-up): a
function marked as a hook whose name is no seqgen hook (a misspelled ``register_config``), a hook with
arguments the hook does not have, and an empty or malformed family, config or command name are each
refused with one line naming the plugin. A plugin that fails to import is not loaded: ``seqgen plugins``
lists it as broken with its error, and commands that do not need it work as before.
"""

import functools
import importlib
import importlib.metadata
import os
import re

import attrs
import pluggy

from seqgen import hookspecs
from seqgen.errors import SeqgenError
from seqgen.version import DISTRIBUTION, __version__

ENTRY_POINT_GROUP = "seqgen"
DEFAULT_PLUGIN = "seqgen"
#: seqgen's own plugin, loaded by name as an installed plugin's module is (simonw/llm's default plugins): it
#: sits above the registry, which imports none of the families and commands it registers.
DEFAULT_PLUGIN_MODULE = "seqgen.default_plugin"
#: What a family name, config id or command name may look like: it is typed on the command line and
#: becomes part of file names.
NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")

#: ``{plugin name: why it failed to import}`` for installed plugins that could not be loaded.
_broken = {}


def _entry_points() -> dict:
    found = {}
    for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name in found and found[entry_point.name].value != entry_point.value:
            raise SeqgenError(
                f"two installed packages register a seqgen plugin named {entry_point.name!r} "
                f"({found[entry_point.name].value} and {entry_point.value}); uninstall one of them"
            )
        found[entry_point.name] = entry_point
    return found


def _register(pm: pluggy.PluginManager, plugin, name: str) -> None:
    """Register ``plugin``, refusing (one line) a hook seqgen does not have or one with unknown arguments."""
    try:
        pm.register(plugin, name)
    except pluggy.PluginValidationError as error:
        if pm.has_plugin(name):
            pm.unregister(name=name)
        raise SeqgenError(
            f"the seqgen plugin {name!r} has a hook with arguments the hook does not take "
            f"({str(error).splitlines()[0]}); see seqgen.hookspecs"
        ) from None
    unknown = sorted(
        caller.name
        for caller in pm.get_hookcallers(plugin) or ()
        if not caller.has_spec()
        and any(not hook.optionalhook for hook in caller.get_hookimpls() if hook.plugin is plugin)
    )
    if unknown:
        pm.unregister(name=name)
        known = sorted(n for n, f in vars(hookspecs).items() if hasattr(f, "seqgen_spec"))
        raise SeqgenError(
            f"the seqgen plugin {name!r} implements {', '.join(unknown)}, which is no seqgen hook "
            f"(misspelled?); the hooks are {', '.join(known)}"
        )


@functools.cache
def manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, with the default plugin and the installed plugins loaded."""
    pm = pluggy.PluginManager("seqgen")
    pm.add_hookspecs(hookspecs)
    pm.register(importlib.import_module(DEFAULT_PLUGIN_MODULE), DEFAULT_PLUGIN)
    available = _entry_points()
    wanted = os.environ.get("SEQGEN_LOAD_PLUGINS")
    names = sorted(available) if wanted is None else [n.strip() for n in wanted.split(",") if n.strip()]
    _broken.clear()
    for name in names:
        if name not in available:
            raise SeqgenError(
                f"SEQGEN_LOAD_PLUGINS names unknown plugin {name!r}; "
                f"installed plugins: {', '.join(sorted(available)) or 'none'}"
            )
        try:
            module = available[name].load()
        except Exception as error:  # whatever a plugin's import raises, it must not stop the others
            _broken[name] = f"{type(error).__name__}: {error}".splitlines()[0]
            continue
        _register(pm, module, name)
    return pm


def broken() -> dict:
    """``{plugin name: error}`` of the installed plugins that fail to import (and so are not loaded)."""
    manager()
    return dict(_broken)


def not_installed(name: str, needs: str) -> SeqgenError:
    """The error for something that needs plugin ``name``, which is not loaded: installed but broken, or absent."""
    if name in broken():
        return SeqgenError(
            f"{needs}, but the seqgen plugin {name!r} fails to import ({_broken[name]}); reinstall "
            f"it (pip install --force-reinstall {distribution(name)}) or fix what it imports"
        )
    return SeqgenError(f"{needs}, which is not installed; install it (pip install {distribution(name)}) and try again")


def _changed() -> None:
    _registered.cache_clear()


def register(plugin, name: str) -> None:
    """Register a plugin object in-process; a taken name is refused."""
    if manager().has_plugin(name):
        raise SeqgenError(f"a plugin named {name!r} is already registered")
    _register(manager(), plugin, name)
    _changed()


def unregister(name: str) -> None:
    manager().unregister(name=name)
    _changed()


def plugin_names() -> list:
    return sorted(name for name, _ in manager().list_name_plugin())


def version(name: str) -> str:
    """The installed version of plugin ``name`` (its distribution's, else its ``__version__``)."""
    if name == DEFAULT_PLUGIN:
        return __version__
    entry_point = _entry_points().get(name)
    if entry_point is not None and entry_point.dist is not None:
        return entry_point.dist.version
    return getattr(manager().get_plugin(name), "__version__", "unknown")


def distribution(name: str) -> str:
    """The pip package that provides plugin ``name`` (for "install ..." messages)."""
    if name == DEFAULT_PLUGIN:
        return DISTRIBUTION
    entry_point = _entry_points().get(name)
    if entry_point is not None and entry_point.dist is not None:
        return entry_point.dist.name
    return f"{DISTRIBUTION}-{name}"


def _collect(hook_name: str) -> dict:
    """``{plugin name: [registered objects]}`` for one ``register_*`` hook, asking each plugin in turn."""
    pm = manager()
    everyone = dict(pm.list_name_plugin())
    found = {}
    for name in sorted(everyone):
        others = [plugin for other, plugin in everyone.items() if other != name]
        items = []
        pm.subset_hook_caller(hook_name, remove_plugins=others)(register=items.append)
        found[name] = items
    return found


#: What each kind of registered thing must have (checked by attribute: the registry imports no contract), and
#: the class to register.
_KINDS = {
    "model family": (("name", "hparams_class", "build", "stepper", "variable_shapes"), "seqgen.family.ModelFamily"),
    "config": (("id", "encoding", "tracks", "hparams", "model", "steps_per_quarter"), "seqgen.config.Config"),
    "command": (("name", "help", "add_arguments", "run"), "seqgen.commands.Command"),
}


def _check_item(kind: str, plugin: str, item, key) -> None:
    """One line refusing what a plugin registered: not a ``kind``, or with an empty or malformed name."""
    needs, expected = _KINDS[kind]
    if isinstance(item, type) or not all(hasattr(item, attribute) for attribute in needs):
        raise SeqgenError(
            f"the seqgen plugin {plugin!r} registered a {type(item).__name__} as a {kind}; register a {expected}"
        )
    name = key(item)
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise SeqgenError(
            f"the seqgen plugin {plugin!r} registered a {kind} named {name!r}; a {kind} name is a "
            f"letter followed by letters, digits, '_' or '-'"
        )


def _check_config(plugin: str, config, families: dict) -> None:
    """A config's family must be installed with the hparams it takes; its tracks name themselves fully."""
    if config.model not in families:
        raise SeqgenError(
            f"config {config.id!r} of plugin {plugin!r} needs model family {config.model!r}, "
            f"which no installed plugin provides; installed families: "
            f"{', '.join(sorted(families)) or 'none'}"
        )
    hparams_class = families[config.model][1].hparams_class
    if type(config.hparams) is not hparams_class:
        raise SeqgenError(
            f"config {config.id!r} of plugin {plugin!r} gives hparams of type "
            f"{type(config.hparams).__name__}; family {config.model!r} needs {hparams_class.__name__}"
        )
    tracks = type(config.tracks)
    noun_by, plural_by = (next(k for k in tracks.__mro__ if name in vars(k)) for name in ("noun", "plural"))
    if noun_by is not plural_by and issubclass(noun_by, plural_by):  # a noun newer than its plural
        raise SeqgenError(
            f"config {config.id!r} of plugin {plugin!r}: {tracks.__name__} sets noun = "
            f"{tracks.noun!r} but not plural (used in messages and record file names); set "
            f'plural = "{tracks.noun}s" or the right word'
        )


def _unique(kind: str, hook_name: str, key) -> dict:
    """``{key(item): (plugin name, item)}``; a key registered twice is refused, naming both plugins."""
    result = {}
    for name, items in _collect(hook_name).items():
        for item in items:
            _check_item(kind, name, item, key)
            if key(item) in result:
                raise SeqgenError(
                    f"{kind} {key(item)!r} is registered twice, by plugins {result[key(item)][0]!r} "
                    f"and {name!r}; uninstall one of them"
                )
            result[key(item)] = (name, item)
    return result


@functools.cache
def _registered() -> tuple:
    """(families, configs, commands), each ``{name: (plugin, item)}``."""
    families = _unique("model family", "register_models", lambda family: family.name)
    for name, (plugin, family) in families.items():
        if not isinstance(family.hparams_class, type):
            raise SeqgenError(
                f"the seqgen plugin {plugin!r} registered model family {name!r} without an "
                f"hparams_class; set it to the family's frozen attrs HParams subclass"
            )
    configs = _unique("config", "register_configs", lambda config: config.id)
    for config_id, (plugin, config) in configs.items():
        _check_config(plugin, config, families)
        configs[config_id] = (plugin, attrs.evolve(config, plugin=plugin))
    commands = _unique("command", "register_commands", lambda command: command.name)
    return families, configs, commands


def families() -> dict:
    """Every registered model family by name."""
    return {name: family for name, (_, family) in _registered()[0].items()}


def family_plugin(name: str) -> str:
    return _registered()[0][name][0]


def get_family(name: str):
    """The model family ``name``; an unknown name lists the valid ones."""
    known = families()
    if name not in known:
        raise SeqgenError(f"unknown model family {name!r}; installed families: {', '.join(sorted(known)) or 'none'}")
    return known[name]


def configs() -> dict:
    """Every registered config by id, each tagged with its plugin's name."""
    return {config_id: config for config_id, (_, config) in _registered()[1].items()}


def commands() -> dict:
    """Every registered command by name."""
    return {name: command for name, (_, command) in _registered()[2].items()}


def extend_command(name: str, parser) -> None:
    """Let every plugin add its flags to the parser of command ``name``."""
    manager().hook.extend_command(name=name, parser=parser)


def postprocess_tracks(args, model, tracks) -> list:
    """The tracks after every plugin's ``postprocess_tracks`` hook, each given the previous one's."""
    for implementation in manager().hook.postprocess_tracks.get_hookimpls():
        changed = implementation.function(args=args, model=model, tracks=tracks)
        if changed is not None:
            tracks = list(changed)
    return tracks


def plugins() -> list:
    """``[{name, version, models, configs, commands, error}]`` for every installed plugin, by name: ``error`` is
    None for a loaded plugin, and why it fails to import for a broken one (which registers nothing)."""
    families_, configs_, commands_ = _registered()
    found = [
        {
            "name": name,
            "version": version(name),
            "models": sorted(k for k, (p, _) in families_.items() if p == name),
            "configs": sorted(k for k, (p, _) in configs_.items() if p == name),
            "commands": sorted(k for k, (p, _) in commands_.items() if p == name),
            "error": None,
        }
        for name in plugin_names()
    ]
    found += [
        {"name": name, "version": version(name), "models": [], "configs": [], "commands": [], "error": error}
        for name, error in broken().items()
    ]
    return sorted(found, key=lambda plugin: plugin["name"])


def check_plugin(name: str) -> None:
    if name in broken():
        raise not_installed(name, f"plugin {name!r} was asked for")
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


def song_arrangement(config):
    """The :class:`seqgen.tracks.Arrangement` a plugin gives tracks of ``config`` (the ``song_arrangement`` hook), or
    None when no plugin gives one."""
    return manager().hook.song_arrangement(config=config)
