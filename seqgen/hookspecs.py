"""The hooks a seqgen plugin may implement.

A plugin is a module (or object) registered under the ``seqgen`` entry-point group whose functions
carry ``@seqgen.hookspecs.hookimpl``. Each ``register_*`` hook receives a ``register`` callback and calls
it once per thing it adds. seqgen's own model families and commands come from
:mod:`seqgen.default_plugin` through the same hooks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:  # names for the annotations only: the hook specs import nothing of seqgen at run time
    import argparse
    from collections.abc import Callable

    from seqgen.commands import Command
    from seqgen.config import Config
    from seqgen.family import ModelFamily
    from seqgen.model import Model, Track
    from seqgen.tracks import Arrangement, GenerateOption

hookspec = pluggy.HookspecMarker("seqgen")
hookimpl = pluggy.HookimplMarker("seqgen")


@hookspec
def register_models(register: Callable[[ModelFamily], None]) -> None:
    """Register model families: call ``register(family)`` once per :class:`seqgen.family.ModelFamily`."""


@hookspec
def register_configs(register: Callable[[Config], None]) -> None:
    """Register model configurations: call ``register(config)`` once per :class:`seqgen.config.Config`."""


@hookspec
def register_commands(register: Callable[[Command], None]) -> None:
    """Register ``seqgen`` subcommands: call ``register(command)`` once per :class:`seqgen.commands.Command`."""


@hookspec
def extend_command(name: str, parser: argparse.ArgumentParser) -> None:
    """Add this plugin's own flags to the argparse ``parser`` of the core command ``name`` (e.g. an
    alias such as drums' ``--primer_drums``); its values reach the plugin through ``args``."""


@hookspec
def postprocess_tracks(args: argparse.Namespace, model: Model, tracks: list[Track]) -> list[Track] | None:
    """Change the tracks ``seqgen generate`` made with ``model`` before they are written (e.g. drums'
    ``--humanize``): return a new list of tracks (objects with ``write_midi(path)``), or None to leave
    them. Plugins are asked in turn, each given the previous one's tracks."""


@hookspec
def generate_options(model: Model) -> list[GenerateOption] | None:
    """The switches this plugin offers when generating with ``model``, for pages such as ``seqgen studio`` to
    show: a list of :class:`seqgen.tracks.GenerateOption`, each naming a flag of ``seqgen generate`` that the
    plugin adds (``extend_command``) and applies (``postprocess_tracks``); None or [] when it has none."""


@hookspec
def rhythm_models() -> dict[str, Callable[..., Track]] | None:
    """Models that play a part to a one-voice rhythm (e.g. drums' Drumify), for pages such as ``seqgen studio``
    to offer: ``{name: function(times, velocities, qpm, temperature, seed) -> seqgen.model.Track}`` where
    ``times`` are tap times in seconds (0 is the first downbeat) and ``velocities`` their MIDI velocities
    (1-127), or None or {} when the plugin offers none. Bad input raises a one-line SeqgenError."""


@hookspec(firstresult=True)
def song_arrangement(config: Config) -> Arrangement | None:
    """What tracks of ``config`` play at a song's sections (``seqgen song``, ``Model.song``): a
    :class:`seqgen.tracks.Arrangement` (the controls that ask for a fill, what a section's first step plays), or
    None where this plugin has nothing to say about ``config``."""
