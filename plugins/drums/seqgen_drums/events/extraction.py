"""Drum track extraction with the meaning of Magenta's DrumsExtractor (drum_pipelines.extract_drum_tracks).

A track starts at the bar holding its first drum hit and ends before a silence of ``gap_bars`` bars or
more; the search then goes on from the next bar boundary. Hits starting on the same step form one event
(a frozenset of pitches); zero-velocity notes are ignored. Tracks shorter than ``min_bars`` bars are
dropped; longer than ``max_steps`` ones are truncated, or cut into bar-aligned windows of at most
``max_steps`` steps when ``split_long_tracks`` is set (windows shorter than ``min_bars`` are dropped).
"""

import bisect
import collections

from seqgen.noteseq import sequences_lib


def _hits_by_step(quantized_sequence, ignore_is_drum):
    hits = collections.defaultdict(set)
    for note in quantized_sequence.notes:
        if (note.is_drum or ignore_is_drum) and note.velocity:
            hits[note.quantized_start_step].add(note.pitch)
    steps = sorted(hits)
    return steps, [frozenset(hits[s]) for s in steps]


def _track_from(steps, events, search_start, steps_per_bar, gap_steps):
    """``(start step, events)`` of the track found from ``search_start`` on, or None."""
    first = bisect.bisect_left(steps, search_start)
    if first == len(steps):
        return None
    start = steps[first] - (steps[first] - search_start) % steps_per_bar
    track, gap_start = [], 0
    for step, event in zip(steps[first:], events[first:]):
        index = step - start
        if track and index - gap_start >= gap_steps:
            break
        track.extend([frozenset()] * (index - len(track)))
        track.append(event)
        gap_start = index + 1
    return start, track


def extract_drum_tracks(quantized_sequence, extraction):
    """``(list of drum tracks, dict of counts)`` of one quantized NoteSequence."""
    counts = collections.Counter()
    steps_per_bar = sequences_lib.steps_per_bar_in_quantized_sequence(quantized_sequence)
    if steps_per_bar % 1:
        counts["non_integer_steps_per_bar"] += 1
        return [], counts
    steps_per_bar = int(steps_per_bar)
    steps, events = _hits_by_step(quantized_sequence, extraction.ignore_is_drum)
    if not steps and any(note.velocity for note in quantized_sequence.notes):
        counts["sequences_without_drum_notes"] += 1
    return cut_tracks(steps, events, steps_per_bar, extraction, counts), counts


def cut_tracks(steps, events, steps_per_bar: int, extraction, counts) -> list:
    """The tracks of the steps that sound (``steps``, with their ``events``), as Magenta cuts them: a track
    ends at a silence of ``gap_bars``; those under ``min_bars`` are dropped (counted), those over
    ``max_steps`` truncated or, with ``split_long_tracks``, cut into windows of whole bars."""
    min_steps = extraction.min_bars * steps_per_bar
    tracks, search_start = [], 0
    while True:
        found = _track_from(steps, events, search_start, steps_per_bar, extraction.gap_bars * steps_per_bar)
        if found is None:
            return tracks
        start, track = found
        end = start + len(track)
        search_start = end + (search_start - end) % steps_per_bar
        if len(track) < min_steps:
            counts["drum_tracks_discarded_too_short"] += 1
        elif len(track) <= extraction.max_steps:
            tracks.append(track)
        elif not extraction.split_long_tracks:
            counts["drum_tracks_truncated"] += 1
            tracks.append(track[: extraction.max_steps])
        else:
            counts["drum_tracks_split_into_windows"] += 1
            window = extraction.max_steps - extraction.max_steps % steps_per_bar or extraction.max_steps
            pieces = [track[i : i + window] for i in range(0, len(track), window)]
            if len(pieces[-1]) < min_steps:
                counts["windows_discarded_too_short"] += 1
                pieces.pop()
            tracks += pieces
