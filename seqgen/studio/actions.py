"""The studio's music actions, run in its worker threads: generate takes, regenerate bars, play to taps, read a
dropped MIDI file, write a clip, and describe a model; each returns what the page is sent, and writes the
takes' MIDI files into the caller's session folder.
"""

from __future__ import annotations

import argparse
import collections
import logging
import math
import os
import secrets
from typing import TYPE_CHECKING

import attrs

from seqgen.errors import SeqgenError
from seqgen.studio import grid
from seqgen.studio.checks import (
    LABELS,
    MAX_OUTPUTS,
    MAX_PRIMER_FROM_MIDI,
    MAX_STEPS,
    MAX_TAP_SECONDS,
    MAX_TAPS,
    MAX_WORK,
    QPM,
    TEMPERATURE,
    Clip,
    Job,
    checked_controls,
    controls_of,
    number,
    whole,
)

if TYPE_CHECKING:
    from seqgen.studio.sessions import Studio


log = logging.getLogger("seqgen.studio")


INFILL_CANDIDATES = 8  # gaps Generator.infill samples per take by default (rescoring)


def plain_summary(config, rows) -> str:
    """What the model makes, in a musician's words."""
    beat = f"{config.steps_per_quarter} steps per beat"
    if not rows:
        return f"Makes {config.tracks.plural}, {beat}."
    return f"Makes {config.tracks.plural} on {len(rows)} sounds ({', '.join(label for label, _ in rows)}), {beat}."


def description(studio: Studio, model_id: str) -> dict:
    model = studio.model(model_id)
    config, rows = model.config, grid.rows(model.config)
    primer = model.primer() if config.tracks.default_primer is not None else None
    return {
        "id": model_id,
        "config": config.id,
        "plugin": config.plugin,
        "summary": plain_summary(config, rows),
        "description": model.description or config.description,
        "noun": config.tracks.noun,
        "plural": config.tracks.plural,
        "steps_per_quarter": config.steps_per_quarter,
        "rows": [
            {"label": label, "pitches": list(pitches), "drum": sound_of(config, pitches[0]).is_drum}
            for label, pitches in rows
        ],
        "default_primer": None
        if primer is None
        else {
            "text": config.tracks.format_events(primer),
            "cells": grid.events_to_cells(primer, rows) if rows else None,
        },
        "options": [attrs.asdict(option) for option in studio.options(model_id).values()],
        "controls": [control.describe() for control in getattr(model, "controls", ())],
        "infill_rows": bool(row_parts(config, rows)),
    }


def sound_of(config, pitch: int):
    """The Note a one-step event of ``pitch`` plays at step 0, 120 qpm (drum or not, program, length)."""
    return config.tracks.notes([frozenset({pitch})], config.steps_per_quarter, 120.0)[0]


def notes_of(track) -> list:
    """``[[start, end, pitch, velocity, is_drum]]`` (seconds) of what the track plays."""
    config = track.config
    return [
        [round(note.start, 4), round(note.end, 4), note.pitch, note.velocity, note.is_drum]
        for note in config.tracks.notes(track.events, config.steps_per_quarter, track.qpm)
    ]


def hits_of(notes, rows, step_seconds: float) -> list:
    """``[[step, row, velocity, offset]]`` of the notes on the grid (offset: the timing, in steps)."""
    row_of = {}
    for r, (_, pitches) in enumerate(rows):
        for pitch in pitches:
            row_of.setdefault(pitch, r)
    hits = []
    for start, _, pitch, velocity, _ in notes:
        step = round(start / step_seconds)
        if pitch in row_of:
            hits.append([step, row_of[pitch], velocity, round(max(-0.5, min(0.5, start / step_seconds - step)), 3)])
    return hits


def generate_args(flags):
    """What ``seqgen generate`` (with plugins' flags) parses from the switches' ``flags``."""
    from seqgen import plugins

    parser = argparse.ArgumentParser()
    plugins.commands()["generate"].add_arguments(parser)
    plugins.extend_command("generate", parser)
    return parser.parse_args(list(flags))


def generate_takes(studio: Studio, job: Job, folder: str, on_step) -> list:
    """Generate the tracks of ``job``, write them as MIDI files into ``folder``; ``[(stem, result json)]``."""
    from seqgen import plugins

    model = studio.worker_model(job.model)
    rows = grid.rows(model.config)
    options = studio.options(job.model)
    for flag in job.options:
        if flag not in options:
            raise SeqgenError(f"{job.model} has no switch {flag[:40]!r}; its switches: {', '.join(options) or 'none'}")
        if options[flag].unavailable:
            raise SeqgenError(f"{options[flag].label} {options[flag].unavailable}; untick it")
    if job.cells is not None:
        if not rows:
            raise SeqgenError(f"{model.config.id} has no grid; give the primer as text")
        primer = grid.cells_to_events(job.cells, rows)
    else:
        primer = model.primer(job.primer or None)
    if len(primer) + job.new_steps > MAX_STEPS:
        raise SeqgenError(
            f"the primer ({len(primer)} steps) and {LABELS['new_steps']} ({job.new_steps}) make "
            f"{len(primer) + job.new_steps} steps; the studio makes takes of at most {MAX_STEPS}"
        )
    tracks = model.generate(
        job.num_outputs,
        len(primer) + job.new_steps,
        primer,
        job.temperature,
        job.seed,
        job.beam_size,
        job.branch_factor,
        job.steps_per_iteration,
        job.qpm,
        on_step=on_step,
        controls=checked_controls(model, job.controls),
    )
    return write_results(plugins.postprocess_tracks(generate_args(job.options), model, tracks), folder, len(primer))


def write_results(tracks, folder: str, primer_steps: int) -> list:
    """Write ``tracks`` as MIDI files into ``folder``; ``[(stem, result json)]``."""
    results = []
    for track in tracks:
        rows = grid.rows(track.config)
        stem = secrets.token_hex(8)
        track.write_midi(os.path.join(folder, stem + ".mid"))
        notes = notes_of(track)
        step_seconds = 60.0 / track.qpm / track.config.steps_per_quarter
        results.append(
            (
                stem,
                {
                    "id": stem,
                    "steps": len(track),
                    "primer_steps": primer_steps,
                    "steps_per_quarter": track.config.steps_per_quarter,
                    "text": track.config.tracks.format_events(track.events),
                    "notes": notes,
                    "cells": grid.events_to_cells(track.events, rows) if rows else None,
                    "hits": hits_of(notes, rows, step_seconds) if rows else None,
                },
            )
        )
    return results


def infill_takes(studio: Studio, body: dict, folder: str) -> list:
    """Regenerate the chosen bars (and rows) of a take: ``[(stem, result json)]`` of the new takes."""
    from seqgen.model import Track

    model = studio.worker_model(body["model"])
    config, rows = model.config, grid.rows(model.config)
    if not rows:
        raise SeqgenError(f"{config.id} has no grid; choose bars on a grid model")
    events = grid.cells_to_events(body.get("cells"), rows)
    bars = body.get("bars")
    if not (
        isinstance(bars, list) and len(bars) == 2 and all(isinstance(b, int) and not isinstance(b, bool) for b in bars)
    ):
        raise SeqgenError("Bars must be the first and last bar to regenerate, e.g. [3, 4]")
    chosen = body.get("rows") or []
    parts = row_parts(config, rows)
    if not isinstance(chosen, list) or not all(isinstance(r, int) and 0 <= r < len(parts) for r in chosen):
        raise SeqgenError(
            f"rows must be row numbers from 0 to {len(parts) - 1}"
            if parts
            else f"{config.id} regenerates whole steps: choose no rows"
        )
    num_outputs = whole(body, "num_outputs", 1, 1, MAX_OUTPUTS)
    tries = INFILL_CANDIDATES
    work = num_outputs * len(events) * tries
    if work > MAX_WORK:
        raise SeqgenError(
            f"Takes x take length{f' x {tries} (tries)' if tries > 1 else ''} is {work}, over the "
            f"studio's limit of {MAX_WORK}; choose fewer takes or a shorter take"
        )
    seed = None if body.get("seed") is None else whole(body, "seed", None, 0, 2**63 - 1)
    qpm = number(body, "qpm", 120.0, *QPM)
    tracks = model.infill(
        Track(events, config, qpm),
        bars=tuple(bars),
        instruments=[parts[r] for r in chosen],
        num_outputs=num_outputs,
        temperature=number(body, "temperature", 1.0, *TEMPERATURE),
        seed=seed,
        controls=checked_controls(model, controls_of(body)),
        steps_per_bar=4 * config.steps_per_quarter,
    )
    return write_results(tracks, folder, 0)


def rhythm_takes(studio: Studio, body: dict, folder: str) -> list:
    """A take played to the taps of the request by a model a plugin offers: ``[(stem, result json)]``."""
    times = body.get("times")
    if not isinstance(times, list) or not times:
        raise SeqgenError("there are no taps; tap a rhythm first (press T, or click the pad)")
    if len(times) > MAX_TAPS:
        raise SeqgenError(f"{len(times)} taps are more than the studio takes ({MAX_TAPS}); tap a shorter rhythm")
    if not all(
        isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t) and 0 <= t <= MAX_TAP_SECONDS
        for t in times
    ):
        raise SeqgenError(
            f"tap times must be seconds from the first tap, from 0 to {MAX_TAP_SECONDS:g}; tap a shorter rhythm"
        )
    velocities = body.get("velocities")
    if velocities is not None and not (
        isinstance(velocities, list)
        and len(velocities) == len(times)
        and all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 127 for v in velocities)
    ):
        raise SeqgenError("velocities must be one whole number from 1 to 127 per tap")
    seed = None if body.get("seed") is None else whole(body, "seed", None, 0, 2**63 - 1)
    track = studio.rhythm_model(body["model"])(
        [float(t) for t in times],
        velocities,
        number(body, "qpm", 120.0, *QPM),
        number(body, "temperature", 1.0, *TEMPERATURE),
        seed,
    )
    return write_results([track], folder, 0)


def taps_from_midi(data: bytes) -> dict:
    """The onsets of every note of a dropped MIDI file as taps (the loudest note of each moment), at most
    MAX_TAPS within MAX_TAP_SECONDS: ``{times, velocities, qpm (its first tempo), notice}``."""
    import pretty_midi

    from seqgen.midi_reader import describe_error, read_midi_file

    name = "the dropped MIDI file"
    try:
        midi = pretty_midi.PrettyMIDI(mido_object=read_midi_file(data, name))
    except SeqgenError:
        raise
    except Exception as error:  # pretty_midi's many kinds on odd files
        raise SeqgenError(
            f"{name} is not a valid MIDI file ({describe_error(error)}); give a Standard MIDI File (.mid)"
        ) from None
    loudest = collections.Counter()
    for note in (note for instrument in midi.instruments for note in instrument.notes if note.velocity > 0):
        moment = round(note.start, 4)
        loudest[moment] = max(loudest[moment], note.velocity)
    onsets = sorted(loudest.items())
    if not onsets:
        raise SeqgenError(f"{name} has no notes; drop a file with the rhythm to play to")
    kept = [(time, velocity) for time, velocity in onsets if time <= MAX_TAP_SECONDS][:MAX_TAPS]
    if not kept:
        raise SeqgenError(f"{name} has no notes in its first {MAX_TAP_SECONDS:g} s; cut the part to play to")
    notices = [f"kept the first {len(kept)} onsets of {len(onsets)}"] if len(kept) < len(onsets) else []
    tempi = [round(float(tempo), 2) for tempo in midi.get_tempo_changes()[1]] or [120.0]
    qpm = min(max(tempi[0], QPM[0]), QPM[1])
    if len(set(tempi)) > 1 or qpm != tempi[0]:
        notices.append(f"taps follow {qpm:g} BPM (its tempo {'changes' if len(set(tempi)) > 1 else 'is out of range'})")
    return {
        "times": [time for time, _ in kept],
        "velocities": [velocity for _, velocity in kept],
        "qpm": qpm,
        "notice": "; ".join(notices),
    }


def row_parts(config, rows) -> list:
    """The encoding's parts (instruments infilling may regenerate alone) by grid row; empty when the
    encoding has none or they are not one per row."""
    parts = list(getattr(config.encoding, "parts", ()))
    return parts if len(parts) == len(rows) else []


def write_clip(model, clip: Clip, path: str) -> None:
    """Write ``clip`` as a MIDI file for a DAW: each hit at its row's first pitch, swing and timing applied."""
    import pretty_midi

    config, rows = model.config, grid.rows(model.config)
    step_seconds = 60.0 / clip.qpm / config.steps_per_quarter
    delay = clip.swing / 50.0 - 1.0  # steps the second step of each pair is late
    midi = pretty_midi.PrettyMIDI(resolution=480, initial_tempo=clip.qpm)
    midi.time_signature_changes.append(pretty_midi.TimeSignature(4, 4, 0.0))
    instruments, sounds = {}, [sound_of(config, pitches[0]) for _, pitches in rows]
    for step, row, velocity, offset in clip.hits:
        pitch, sound = rows[row][1][0], sounds[row]
        key = (sound.program, sound.is_drum)
        if key not in instruments:
            instruments[key] = pretty_midi.Instrument(sound.program, sound.is_drum, name=config.tracks.noun)
            midi.instruments.append(instruments[key])
        start = max(0.0, (step + offset + delay * (step % 2)) * step_seconds)
        instruments[key].notes.append(pretty_midi.Note(velocity, pitch, start, start + sound.end - sound.start))
    midi.write(path)


def primer_from_midi(model, path) -> dict:
    config, rows = model.config, grid.rows(model.config)
    found = config.tracks.primer_from_midi(path, config)
    events, notices = found.events, [found.notice] if found.notice else []
    if len(events) > MAX_PRIMER_FROM_MIDI:
        bars = MAX_PRIMER_FROM_MIDI // found.steps_per_bar
        events = events[: bars * found.steps_per_bar] if bars else events[:MAX_PRIMER_FROM_MIDI]
        notices.append(
            f"kept the first {bars} bars of {math.ceil(len(found.events) / found.steps_per_bar)}"
            if bars
            else f"kept the first {MAX_PRIMER_FROM_MIDI} steps of {len(found.events)}"
        )
    qpm = min(max(found.qpm, QPM[0]), QPM[1])
    if qpm != found.qpm:
        notices.append(f"its tempo {found.qpm:.0f} BPM is outside {QPM[0]:g}-{QPM[1]:g}: playing at {qpm:g}")
    return {
        "steps": len(events),
        "qpm": qpm,
        "steps_per_bar": found.steps_per_bar,
        "notice": "; ".join(notices),
        "text": config.tracks.format_events(events),
        "cells": grid.events_to_cells(events, rows) if rows else None,
    }
