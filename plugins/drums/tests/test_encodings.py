"""The drums encodings reproduce Magenta's inputs and classes for the reference track."""

import json

import numpy as np
import pytest

from seqgen import plugins
from support import MAGENTA

REFERENCE = json.loads((MAGENTA / "reference_logits.json").read_text())
BUNDLES = {bundle["generator_id"]: bundle for bundle in REFERENCE["bundles"]}


@pytest.mark.parametrize("config_id", ["drum_kit", "one_drum"])
def test_reference_track_encodes_like_magenta(config_id):
    reference = BUNDLES[config_id]
    encoding = plugins.get_config(config_id).encoding
    events = [frozenset(event) for event in reference["events_fed_pitches"]]

    classes = encoding.events_to_classes(events)
    assert classes.tolist() == reference["event_class_indices"]

    inputs = encoding.inputs_from_classes(classes)
    assert inputs.shape == (len(events), reference["input_size"])
    nonzero = [[[int(i), float(row[i])] for i in np.flatnonzero(row)] for row in inputs]
    assert nonzero == reference["inputs_nonzero"]
    for position in range(len(events)):
        np.testing.assert_array_equal(encoding.input_for_step(events, position), inputs[position])


@pytest.mark.parametrize("config_id", ["drum_kit", "one_drum"])
def test_encode_pairs_each_input_with_the_next_class(config_id):
    encoding = plugins.get_config(config_id).encoding
    events = [frozenset(event) for event in BUNDLES[config_id]["events_fed_pitches"]]
    inputs, labels = encoding.encode(events)
    assert len(inputs) == len(labels) == len(events) - 1
    assert labels.tolist() == BUNDLES[config_id]["event_class_indices"][1:]


def test_drum_kit_classes_decode_to_the_first_pitch_of_each_drum():
    encoding = plugins.get_config("drum_kit").encoding
    assert encoding.input_size == 518 and encoding.num_classes == 512
    assert encoding.no_event_class == 0
    assert encoding.class_to_event(130) == frozenset({38, 49})
    # Every class survives a decode/encode round trip; other pitches of a type map to the same class.
    assert all(encoding.event_to_class(encoding.class_to_event(c)) == c for c in range(512))
    assert encoding.event_to_class({35, 44}) == encoding.event_to_class({36, 42}) == 5


def test_one_drum_is_two_states_and_decodes_to_hand_clap():
    encoding = plugins.get_config("one_drum").encoding
    assert (encoding.input_size, encoding.num_classes) == (2, 2)
    assert encoding.class_to_event(1) == frozenset({39})
    assert encoding.event_to_class({0}) == encoding.event_to_class({127}) == 1
