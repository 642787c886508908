"""Infilling: regenerate some steps (bars) and some parts of events (instruments), keep the rest exactly.

The core mechanism is tested with a plugin defined here (events of two parts, not drums) on both model
families, with small random weights (what is tested is what is kept, not how good the rest is). Drums by bars
and by instruments, the ``seqgen infill`` command and its bad input are in plugins/drums/tests/test_drums_infill.py.
"""

import ast

import numpy as np
import pytest

from seqgen import plugins
from seqgen.config import Config
from seqgen.encoding import Encoding
from seqgen.errors import SeqgenError
from seqgen.families.events_rnn import EventsRNNHParams
from seqgen.families.transformer import TransformerHParams
from seqgen.hookspecs import hookimpl
from seqgen.tracks import Tracks
from support import SMALL_TRANSFORMER, one_blas_thread, random_model  # noqa: F401  (one_blas_thread: autouse)


# --- A plugin that is not drums: an event is a (low, high) pair, each part regenerated on its own. ---

LOWS, HIGHS = 4, 3


class PairEncoding(Encoding):
    """(low, high) with low in 0..3 and high in 0..2; the position features say where in the bar a step is."""

    parts = ("low", "high")
    num_position_features = 2

    @property
    def num_classes(self):
        return LOWS * HIGHS

    @property
    def no_event(self):
        return (0, 0)

    def event_to_class(self, event):
        return event[0] * HIGHS + event[1]

    def class_to_event(self, index):
        return divmod(int(index), HIGHS)

    def agreeing_classes(self, index, regenerate):
        kept = [k for k, name in enumerate(self.parts) if name not in regenerate]
        mine = self.class_to_event(index)
        return np.array([all(self.class_to_event(c)[k] == mine[k] for k in kept) for c in range(self.num_classes)])

    def position_features(self, num_steps):
        steps = np.arange(1, num_steps + 1)[:, None]
        return np.where((steps >> np.arange(2)) & 1, 1.0, -1.0).astype(np.float32)


class PairTracks(Tracks):
    def extract(self, quantized_sequence, extraction):
        return [], {}

    def notes(self, events, steps_per_quarter, qpm):
        return []

    def parse_primer(self, text):
        return [tuple(event) for event in ast.literal_eval(text)]


PAIRS = dict(
    description="Pairs of a low and a high part.", encoding=PairEncoding(), tracks=PairTracks(), steps_per_quarter=1
)  # 4 steps a bar
PAIRS_TRANSFORMER = Config(
    id="pairs_transformer",
    model="transformer",
    **PAIRS,
    hparams=TransformerHParams(infill=True).override(SMALL_TRANSFORMER),
)
PAIRS_RNN = Config(id="pairs_rnn", hparams=EventsRNNHParams(rnn_layer_sizes=(8,)), **PAIRS)


class PairsPlugin:
    @hookimpl
    def register_configs(self, register):
        register(PAIRS_TRANSFORMER)
        register(PAIRS_RNN)


@pytest.fixture
def pairs(registered):
    """{"transformer": model, "rnn": model} of the pairs plugin, registered in-process."""
    registered(PairsPlugin(), "pairs")
    return {name: random_model(plugins.get_config(f"pairs_{name}"), seed=1) for name in ("transformer", "rnn")}


PAIR_TRACK = [(k % LOWS, (k // 3) % HIGHS) for k in range(24)]  # 6 bars
FAMILY_METHODS = [
    ("transformer", "middle"),
    ("transformer", "rescore"),
    ("transformer", "left"),
    ("rnn", "rescore"),
    ("rnn", "left"),
]


def changed_steps(before, after):
    return {t for t, (a, b) in enumerate(zip(before, after)) if a != b}


@pytest.mark.parametrize("family,method", FAMILY_METHODS)
def test_every_output_keeps_every_step_outside_the_gap_and_only_the_gap_changes(pairs, family, method):
    model = pairs[family]
    for bars, gap in (("3-4", range(8, 16)), ("1", range(0, 4)), ("6", range(20, 24))):
        outputs = model.infill(PAIR_TRACK, bars=bars, num_outputs=6, seed=3, method=method)
        assert len(outputs) == 6
        changed = set()
        for output in outputs:
            assert len(output.events) == len(PAIR_TRACK)
            assert changed_steps(PAIR_TRACK, output.events) <= set(gap), (bars, output.events)
            changed |= changed_steps(PAIR_TRACK, output.events)
        assert changed, f"no output of bars {bars} changed anything"
    by_steps = model.infill(PAIR_TRACK, steps="6-7", num_outputs=4, seed=3, method=method)
    assert all(changed_steps(PAIR_TRACK, o.events) <= {5, 6} for o in by_steps)


@pytest.mark.parametrize("family,method", FAMILY_METHODS)
def test_kept_parts_are_identical_and_the_same_seed_gives_the_same_outputs(pairs, family, method):
    model = pairs[family]
    first = model.infill(PAIR_TRACK, bars="2-5", instruments=["high"], num_outputs=6, seed=5, method=method)
    again = model.infill(PAIR_TRACK, bars="2-5", instruments=["high"], num_outputs=6, seed=5, method=method)
    other = model.infill(PAIR_TRACK, bars="2-5", instruments=["high"], num_outputs=6, seed=6, method=method)
    assert [o.events for o in first] == [o.events for o in again]
    assert [o.events for o in first] != [o.events for o in other]
    for output in first + other:
        assert [low for low, _ in output.events] == [low for low, _ in PAIR_TRACK]  # the kept part, every step
        assert changed_steps(PAIR_TRACK, output.events) <= set(range(4, 20))
    assert any(changed_steps(PAIR_TRACK, o.events) for o in first)
    # The whole track, one part regenerated: the other part is still kept everywhere.
    for output in model.infill(PAIR_TRACK, instruments="low", num_outputs=4, seed=1, method=method):
        assert [high for _, high in output.events] == [high for _, high in PAIR_TRACK]


def test_filling_in_the_middle_reads_the_steps_after_the_gap_and_left_to_right_does_not(pairs):
    model = pairs["transformer"]
    other_end = PAIR_TRACK[:16] + [(3, 2)] * 8
    for method, sees_the_right in (("middle", True), ("left", False)):
        gaps = [
            [o.events[8:16] for o in model.infill(track, bars="3-4", num_outputs=6, seed=2, method=method)]
            for track in (PAIR_TRACK, other_end)
        ]
        assert (gaps[0] != gaps[1]) == sees_the_right, method


@pytest.mark.parametrize("family", ["transformer", "rnn"])
def test_rescoring_keeps_the_candidate_under_which_the_kept_steps_after_the_gap_are_most_likely(pairs, family):
    model = pairs[family]
    # The candidates are the left-to-right infills of the same seed (the same draws).
    candidates = model.infill(PAIR_TRACK, bars="3-4", num_outputs=8, seed=4, method="left")

    def after_gap(track):
        return float(np.log(model.score(track).probabilities[15:]).sum())  # P(event t | before) for t >= 16

    [chosen] = model.generator.infill(PAIR_TRACK, 8, 16, num_outputs=1, seed=4, method="rescore", candidates=8)
    scores = [after_gap(c) for c in candidates]
    assert chosen == candidates[int(np.argmax(scores))].events
    assert len({round(s, 6) for s in scores}) > 1  # the choice was a real one


def test_a_model_that_learned_no_fill_in_the_middle_refuses_it_and_rescores_by_default_the_other_fills_in(pairs):
    with pytest.raises(SeqgenError, match="cannot fill in the middle; use method rescore or left"):
        pairs["rnn"].infill(PAIR_TRACK, bars="3", method="middle")
    with pytest.raises(SeqgenError, match="unknown infill method 'both'"):
        pairs["transformer"].infill(PAIR_TRACK, bars="3", method="both")
    default = pairs["rnn"].infill(PAIR_TRACK, bars="3-4", num_outputs=2, seed=4)
    assert [o.events for o in default] == [
        o.events for o in pairs["rnn"].infill(PAIR_TRACK, bars="3-4", num_outputs=2, seed=4, method="rescore")
    ]
    # A model that learned to fill in the middle does so by default.
    default, by_method = (
        [o.events for o in pairs["transformer"].infill(PAIR_TRACK, bars="3-4", num_outputs=4, seed=5, **method)]
        for method in ({}, {"method": "middle"})
    )
    assert default == by_method
    assert default != [
        o.events for o in pairs["transformer"].infill(PAIR_TRACK, bars="3-4", num_outputs=4, seed=5, method="rescore")
    ]


def test_a_fill_in_the_middle_stream_reads_the_right_side_first_so_the_gap_continues_the_left_as_in_a_plain_one():
    from seqgen.prompt import Prompt

    prompt = Prompt(num_classes=6, infill=True)
    classes = np.array([1, 0, 3, 5, 2, 0, 4, 1, 1, 3])
    for start, end in ((3, 6), (0, 2), (8, 9)):
        tokens, steps, labels = prompt.fill_in_middle(classes, start, end, [7])
        right = len(classes) - end
        assert list(tokens[: right + 3]) == [7, prompt.suffix_token, *classes[end:], prompt.middle_token]
        assert list(steps[: right + 3]) == [0, end - 1, *range(end, len(classes)), 0]
        assert list(labels[: right + 3]) == [-1, *classes[end:], -1, classes[0]]  # each right event is scored
        # Then the plain stream of the events up to the gap's end: the same tokens, steps and labels.
        plain = prompt.plain(classes[:end], [])
        for got, want in zip((tokens, steps, labels), plain):
            assert list(got[right + 3 :]) == list(want)
        # What is fed before sampling the gap stops where the gap begins.
        context, context_steps = prompt.context_before_gap(classes, start, end, [7])
        assert list(context) == list(tokens[: right + 3 + start]) and list(context_steps) == list(steps[: len(context)])
