"""What drum tracks play, against real drumming: per-class hit rates, empty steps, groove consistency.

For drum_kit tracks (classes: bit k is drum k of the nine, kick to ride) in 4/4 bars of 16 steps:

- **hit rate** of each drum class: the share of steps on which it is struck;
- **L1 distance** of two sets' nine hit rates: the sum of their absolute differences;
- **empty-step rate**: the share of steps on which nothing is struck;
- **groove consistency** (Wu & Yang's "grooving pattern similarity", 2020, on the drums' onset grid): per
  pair of consecutive whole bars of a track, 1 minus the share of the 9 x 16 onset grid's cells that
  differ (:func:`bar_distance`, the Hamming distance the infilling seam is measured by), averaged over
  every pair of every track. 1: every bar repeats the one before it.

Rates and consistency pool the steps (and bar pairs) of all tracks, so long tracks weigh more.
"""

import os

import attrs
import numpy as np

from seqgen.errors import SeqgenError

from seqgen_drums.events.encoding import DRUM_KIT_NAMES
from seqgen_drums.events.groove import NUM_DRUMS, STEPS_PER_BAR, hits_of_classes

#: Cells of one bar's onset grid.
GRID_CELLS = NUM_DRUMS * STEPS_PER_BAR


@attrs.frozen
class Statistics:
    """What a set of tracks plays: ``hit_rates`` [9], ``empty_rate``, ``groove_consistency`` (NaN without
    two whole bars in a track), and how many tracks, steps and consecutive bar pairs they hold."""

    hit_rates: np.ndarray
    empty_rate: float
    groove_consistency: float
    tracks: int
    steps: int
    bar_pairs: int

    def l1(self, other: "Statistics") -> float:
        """The L1 distance of the two sets' hit rates."""
        return float(np.abs(self.hit_rates - other.hit_rates).sum())


def bar_distance(bar, other) -> int:
    """Cells of the onset grid (9 drums x steps) that differ between two bars of drum_kit classes."""
    return int((hits_of_classes(bar) != hits_of_classes(other)).sum())


def statistics(tracks) -> Statistics:
    """:class:`Statistics` of ``tracks`` (each a sequence of drum_kit classes); a SeqgenError when they
    hold no step."""
    tracks = [np.asarray(track, np.int64) for track in tracks]
    steps = sum(len(track) for track in tracks)
    if not steps:
        raise SeqgenError("no drum steps to measure: the tracks are empty")
    hits = np.concatenate([hits_of_classes(track) for track in tracks])
    distances = [
        bar_distance(track[start - STEPS_PER_BAR : start], track[start : start + STEPS_PER_BAR])
        for track in tracks
        for start in range(STEPS_PER_BAR, len(track) - STEPS_PER_BAR + 1, STEPS_PER_BAR)
    ]
    consistency = 1.0 - float(np.mean(distances)) / GRID_CELLS if distances else float("nan")
    return Statistics(
        hits.mean(axis=0).astype(np.float64),
        float((hits.sum(axis=1) == 0).mean()),
        consistency,
        len(tracks),
        steps,
        len(distances),
    )


def table(rows) -> str:
    """A Markdown table of ``rows`` ((name, Statistics, reference Statistics or None)): the nine hit rates,
    the L1 distance to the reference's, the empty-step rate and the groove consistency, each beside its
    difference from the reference's (a row without a reference is one)."""
    lines = [
        "| tracks | count | steps | " + " | ".join(DRUM_KIT_NAMES) + " | L1 distance | empty steps | "
        "groove consistency |",
        "|---|---:|---:|" + "---:|" * (NUM_DRUMS + 3),
    ]
    for name, found, reference in rows:
        rates = " | ".join(f"{rate:.3f}" for rate in found.hit_rates)
        empty, groove = found.empty_rate, found.groove_consistency
        if reference is None:
            differences = ("0", f"{empty:.3f}", _number(groove))
        else:
            differences = (
                f"{found.l1(reference):.3f}",
                f"{empty:.3f} ({empty - reference.empty_rate:+.3f})",
                f"{_number(groove)} ({_number(groove - reference.groove_consistency, '+')})",
            )
        lines.append(f"| {name} | {found.tracks} | {found.steps} | {rates} | " + " | ".join(differences) + " |")
    return "\n".join(lines)


def _number(value, sign="") -> str:
    return "-" if np.isnan(value) else f"{value:{sign}.3f}"


def midi_folder_tracks(folder) -> list:
    """The drum tracks (drum_kit classes) of the MIDI files in ``folder`` and its subfolders, each on its
    own file's grid from the bar of its first hit to the bar of its last; a SeqgenError when there are none."""
    from seqgen_drums.events.encoding import DRUM_KIT_PITCHES, DrumEncoding
    from seqgen_drums.played.humanize import read_score

    if not os.path.isdir(folder):
        raise SeqgenError(f"{folder} is not a folder; give a folder of MIDI files")
    paths = sorted(
        os.path.join(root, name)
        for root, _, names in os.walk(folder)
        for name in names
        if name.lower().endswith((".mid", ".midi"))
    )
    if not paths:
        raise SeqgenError(f"{folder} holds no MIDI files (.mid, .midi)")
    encoding = DrumEncoding(DRUM_KIT_PITCHES)
    return [encoding.events_to_classes(read_score(path).events) for path in paths]


def record_tracks(path, where=None) -> list:
    """The drum tracks (drum_kit classes) of a record file (``seqgen create_dataset`` of a drum config)
    whose controls have the values of ``where`` ({name: value}); needs TensorFlow."""
    return select(labelled_tracks(path), where, path)


def labelled_tracks(path) -> list:
    """``[(classes, {control: value})]`` of a drum record file (unset controls left out); needs TensorFlow."""
    from seqgen import records

    from seqgen_drums.events.controls import DRUM_CONTROLS

    if not os.path.isfile(path):
        raise SeqgenError(f"{path} does not exist; give a record file or a folder of MIDI files")
    names = [control.name for control in DRUM_CONTROLS]
    tracks = []
    for classes, numbers in records.control_dataset(path, 2**NUM_DRUMS, names).as_numpy_iterator():
        values = {control.name: control.from_record(float(number)) for control, number in zip(DRUM_CONTROLS, numbers)}
        tracks.append((np.asarray(classes, np.int64), {k: v for k, v in values.items() if v is not None}))
    return tracks


def select(labelled, where, source="the records") -> list:
    """The classes of the ``labelled`` tracks whose controls have the values of ``where`` (checked; a number
    matches the values within half its bin's width of it); a SeqgenError naming ``source`` when none has."""
    from seqgen.controls import check_controls

    from seqgen_drums.events.controls import DRUM_CONTROLS

    where = check_controls(DRUM_CONTROLS, where)
    controls = [control for control in DRUM_CONTROLS if control.name in where]
    tracks = [
        classes
        for classes, values in labelled
        if all(_matches(control, values.get(control.name), where[control.name]) for control in controls)
    ]
    if not tracks:
        asked = f" with {', '.join(f'{k}={v:g}' if isinstance(v, float) else f'{k}={v}' for k, v in where.items())}"
        raise SeqgenError(f"{source} holds no drum tracks{asked if where else ''}")
    return tracks


def _matches(control, value, wanted) -> bool:
    """A record's value against a wanted one: a category equal; a number within half the width of the wanted
    one's bin of it, a window centred on the number, as generation reads a number between two bins' centres
    as both bins (:meth:`seqgen.controls.Control.blend`)."""
    if value is None:
        return False
    if control.kind == "category":
        return value == wanted
    index = control.bin(wanted)
    half = (control.edges[index + 1] - control.edges[index]) / 2
    return wanted - half <= value < wanted + half
