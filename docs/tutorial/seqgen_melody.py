"""seqgen_melody: the plugin that docs/tutorial.md builds from nothing (tests/test_tutorial.py runs it).

Monophonic melodies, one event per 16th note, and a model family that counts instead of training by
gradient: a bigram model (how often each class follows each other), smoothed. Every shared command works
with it: create_dataset, train (which fits it, resumably), generate, score, evaluate, bundles and
``seqgen.load``.
"""

# --8<-- [start:imports]
import ast
import collections

import attrs
import numpy as np

from seqgen.config import Config, Extraction
from seqgen.encoding import Encoding
from seqgen.errors import SeqgenError
from seqgen.family import ModelFamily, Stepper
from seqgen.hookspecs import hookimpl
from seqgen.hparams import HParams, positive
from seqgen.tracks import Note, Tracks, seconds_per_step

__version__ = "0.1.0"
# --8<-- [end:imports]

# 1. Events and classes ---------------------------------------------------------------------------------
# --8<-- [start:encoding]
LOWEST, HIGHEST = 48, 84  # C3 up to (not including) C6
HOLD = -1  # "whatever sounds goes on": the no-event


class MelodyEncoding(Encoding):
    """Class 0 is HOLD, then one class per pitch from LOWEST up: a new note starts on that step."""

    num_classes = 1 + HIGHEST - LOWEST
    no_event = HOLD

    def event_to_class(self, event) -> int:
        if event == HOLD:
            return 0
        if not LOWEST <= event < HIGHEST:
            raise SeqgenError(f"melody pitch {event} is outside {LOWEST}-{HIGHEST - 1}")
        return 1 + event - LOWEST

    def class_to_event(self, index: int):
        return HOLD if index == 0 else LOWEST + index - 1


# --8<-- [end:encoding]


# 2. Tracks: music in, music out ------------------------------------------------------------------------
# --8<-- [start:tracks]
class MelodyTracks(Tracks):
    """A melody is a list of ints: a pitch (a new note) or HOLD per step."""

    noun = "melody"
    plural = "melodies"
    default_primer = "[60]"

    def extract(self, quantized_sequence, extraction):
        """The top line of a quantized NoteSequence: at each step where notes start, the highest of them."""
        counts = collections.Counter()
        top = {}
        for note in quantized_sequence.notes:
            if not note.is_drum and note.velocity and LOWEST <= note.pitch < HIGHEST:
                step = note.quantized_start_step
                top[step] = max(top.get(step, 0), note.pitch)
        if not top:
            counts["sequences_without_melody_notes"] += 1
            return [], counts
        start, end = min(top), max(top) + 1
        if end - start < extraction.min_bars * 16:
            counts["melodies_discarded_too_short"] += 1
            return [], counts
        events = [top.get(step, HOLD) for step in range(start, min(end, start + extraction.max_steps))]
        counts["melodies_extracted"] += 1
        return [events], counts

    def notes(self, events, steps_per_quarter, qpm):
        """Each pitch sounds until the next one starts (or the melody ends)."""
        seconds = seconds_per_step(steps_per_quarter, qpm)
        starts = [step for step, event in enumerate(events) if event != HOLD]
        ends = starts[1:] + [len(events)]
        return [Note(events[start], start * seconds, end * seconds) for start, end in zip(starts, ends)]

    def parse_primer(self, text):
        try:
            value = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError):
            value = None
        if not isinstance(value, list) or not value or not all(type(e) is int for e in value):
            raise SeqgenError(
                f"malformed melody primer {text!r}: expected a list of pitches and -1 (hold), "
                f"such as '[60, -1, 62, 64]'"
            )
        for event in value:
            MelodyEncoding().event_to_class(event)  # a clear error for a pitch out of range
        return value


# --8<-- [end:tracks]


# 3. A model family that counts -------------------------------------------------------------------------
# --8<-- [start:family]
@attrs.frozen
class BigramHParams(HParams):
    """batch_size: tracks counted per training step; smoothing: added to every count."""

    batch_size: int = attrs.field(default=8, validator=positive)
    smoothing: float = attrs.field(default=0.5, converter=float, validator=positive)


COUNTS = "bigram/counts"


class BigramStepper(Stepper):
    """The next class's logits depend only on the class just fed, so there is no state to carry."""

    def __init__(self, counts, smoothing):
        probabilities = counts + smoothing
        self.log_probs = np.log(probabilities / probabilities.sum(axis=1, keepdims=True)).astype(np.float32)

    def initial_state(self, batch):
        return None

    def step(self, classes, position, state):
        return self.log_probs[np.asarray(classes)], None

    def reorder(self, state, rows):
        return None


class BigramFamily(ModelFamily):
    name = "bigram"
    hparams_class = BigramHParams
    trained_by_gradient = False  # seqgen train calls fit() instead of building a Keras network

    def variable_shapes(self, config):
        classes = config.encoding.num_classes
        return {COUNTS: (classes, classes)}

    def initial_weights(self, config):
        return {COUNTS: np.zeros(self.variable_shapes(config)[COUNTS], np.float32)}

    def fit(self, config, weights, tracks):
        counts = weights[COUNTS]
        for classes in tracks:
            np.add.at(counts, (classes[:-1], classes[1:]), 1.0)
        return weights

    def stepper(self, config, weights):
        return BigramStepper(weights[COUNTS], config.hparams.smoothing)


# --8<-- [end:family]


# 4. The config, and the hooks that register everything ----------------------------------------------------
# --8<-- [start:config]
MELODY = Config(
    id="melody_bigram",
    description="Monophonic melodies (the top line), one event per 16th note, counted as bigrams.",
    encoding=MelodyEncoding(),
    tracks=MelodyTracks(),
    model="bigram",
    hparams=BigramHParams(),
    steps_per_quarter=4,
    extraction=Extraction(min_bars=1, max_steps=256),
)


@hookimpl
def register_models(register):
    register(BigramFamily())


@hookimpl
def register_configs(register):
    register(MELODY)


# --8<-- [end:config]
