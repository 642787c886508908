"""The toy plugin the core tests run on: a whole seqgen plugin at its smallest, knowing nothing of drums.

An event is how many notes start at a step: 0 (the rest), 1, 2 or 3 (three or more), whatever their pitch or
instrument, so every MIDI file (the Groove slice in tests/data too) gives toy tracks; two binary step counters
are the position features (``OnsetEncoding(position_bits=0)``: none). Its configs are tiny models of both
built-in families: ``toy_rnn`` (events RNN) and ``toy_transformer``. Tests register the module in-process
(``registered(toy_plugin, "toy")``, or the ``toy`` fixture of tests/conftest.py), or install it for
``python -m seqgen`` processes (``support.installed_plugin(folder, "toy")``). It reads no primers from MIDI files.
"""

import ast

import numpy as np

from seqgen.config import Config, Extraction
from seqgen.encoding import Encoding
from seqgen.errors import SeqgenError
from seqgen.families.events_rnn import EventsRNNHParams
from seqgen.families.transformer import TransformerHParams
from seqgen.hookspecs import hookimpl
from seqgen.tracks import Note, Tracks, seconds_per_step

__version__ = "0.1"  # what `seqgen plugins` shows when the plugin is registered in-process

MOST = 3  # the largest event: three or more notes start at the step
CHORD = (60, 64, 67)  # what an event of k plays: the first k of these pitches


class OnsetEncoding(Encoding):
    """Event k (0 to 3) is class k; inputs add ``position_bits`` binary step counters (none: the bare one-hot)."""

    num_classes = MOST + 1
    no_event = 0

    def __init__(self, position_bits=2):
        self.num_position_features = position_bits

    def event_to_class(self, event):
        if isinstance(event, bool) or not isinstance(event, (int, np.integer)) or not 0 <= event <= MOST:
            raise SeqgenError(f"a toy event is a number of onsets from 0 to {MOST}, not {event!r}")
        return int(event)

    def class_to_event(self, index):
        return int(index)

    def position_features(self, num_steps):
        steps = np.arange(1, num_steps + 1)[:, None]
        return np.where((steps >> np.arange(self.num_position_features)) & 1, 1.0, -1.0).astype(np.float32)


class OnsetTracks(Tracks):
    """A toy track: one event a step, from the first step of a piece to its last onset."""

    noun = "toy track"
    plural = "toy tracks"
    default_primer = "[1]"

    def extract(self, quantized_sequence, extraction):
        from seqgen.noteseq import sequences_lib

        steps_per_bar = sequences_lib.steps_per_bar_in_quantized_sequence(quantized_sequence)
        onsets = [note.quantized_start_step for note in quantized_sequence.notes if note.velocity]
        if not onsets:
            return [], {}
        track = [0] * (max(onsets) + 1)
        for step in onsets:
            track[step] = min(track[step] + 1, MOST)
        if len(track) < extraction.min_bars * steps_per_bar:
            return [], {"toy_tracks_discarded_too_short": 1}
        return [track[: extraction.max_steps]], {"toy_tracks_truncated": int(len(track) > extraction.max_steps)}

    def notes(self, events, steps_per_quarter, qpm):
        seconds = seconds_per_step(steps_per_quarter, qpm)
        return [
            Note(pitch, step * seconds, (step + 1) * seconds)
            for step, event in enumerate(events)
            for pitch in CHORD[:event]
        ]

    def parse_primer(self, text):
        try:
            events = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError):
            events = None
        if not isinstance(events, list) or not events:
            raise SeqgenError(f"malformed toy primer {text!r}: expected a list of onset counts such as [1, 0, 2]")
        for event in events:
            OnsetEncoding().event_to_class(event)
        return events


TOY = dict(
    encoding=OnsetEncoding(), tracks=OnsetTracks(), steps_per_quarter=4, extraction=Extraction(min_bars=2, max_steps=64)
)
TOY_RNN = Config(
    id="toy_rnn",
    description="Onset counts, a tiny events RNN.",
    **TOY,
    hparams=EventsRNNHParams(batch_size=4, rnn_layer_sizes=(8,)),
)
TOY_TRANSFORMER = Config(
    id="toy_transformer",
    description="Onset counts, a tiny transformer.",
    **TOY,
    model="transformer",
    hparams=TransformerHParams(
        batch_size=4, num_layers=1, d_model=8, num_heads=2, d_ff=16, max_relative_distance=8, warmup_steps=0
    ),
)


@hookimpl
def register_configs(register):
    register(TOY_RNN)
    register(TOY_TRANSFORMER)
