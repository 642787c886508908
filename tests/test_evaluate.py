"""seqgen evaluate: Magenta's metrics of a model (Magenta's own drum_kit bundle, against its outputs), an untrained
network, or the unigram baseline (of the toy plugin's toy_rnn)."""

import json
import math

import numpy as np
import pytest

from seqgen import plugins
from seqgen.cli import main
from seqgen.records import write_class_records
from support import MAGENTA

REFERENCE = json.loads((MAGENTA / "reference_logits.json").read_text())


def _evaluate(capsys, *args):
    assert main(["evaluate", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def reference_records(tmp_path):
    """The reference 17-event track as drum_kit records."""
    encoding = plugins.get_config("drum_kit").encoding
    events = [frozenset(e) for e in REFERENCE["bundles"][0]["events_fed_pitches"]]
    path = tmp_path / "reference.tfrecord"
    write_class_records(path, [encoding.events_to_classes(events)])
    return path


TOY_TRACK = [1, 0, 2, 0, 0, 3, 0, 1, 0]


@pytest.fixture
def toy_records(tmp_path, toy):
    """One toy track's records."""
    path = tmp_path / "toy.tfrecord"
    write_class_records(path, [np.array(TOY_TRACK)])
    return path


def test_metrics_of_a_magenta_bundle_agree_with_its_log_likelihood(capsys, reference_records):
    result = _evaluate(
        capsys,
        "--bundle_file",
        str(MAGENTA / "drum_kit_gmd_64x2_attn32_300steps.mag"),
        "--sequence_example_file",
        str(reference_records),
    )
    bundle = REFERENCE["bundles"][0]
    assert (result["tracks"], result["tokens"]) == (1, 16)
    assert result["loss"] == pytest.approx(-bundle["magenta_drum_track_log_likelihood"] / 16, abs=1e-5)
    assert result["perplexity"] == pytest.approx(math.exp(result["loss"]), rel=1e-9)
    # Accuracy counts the steps whose label is Magenta's most likely next class.
    softmax = json.loads((MAGENTA / "reference_softmax_full.json").read_text())["bundles"][0]["softmax"]
    labels = bundle["event_class_indices"][1:]
    hits = [int(np.argmax(row)) == label for row, label in zip(softmax[:16], labels)]
    assert result["accuracy"] == pytest.approx(sum(hits) / 16)
    no_event = [h for h, label in zip(hits, labels) if label == 0]
    assert result["no_event_accuracy"] == pytest.approx(sum(no_event) / len(no_event))


def test_unigram_baseline_is_the_smoothed_class_frequency(capsys, tmp_path, toy_records):
    train = tmp_path / "train.tfrecord"
    write_class_records(train, [np.array([3, 0, 0, 2, 0]), np.array([1, 2])])
    result = _evaluate(
        capsys, "--config", "toy_rnn", "--unigram_from", str(train), "--sequence_example_file", str(toy_records)
    )
    counts = np.ones(4)
    for label in [0, 0, 2, 0, 2]:  # every event after the first of each track
        counts[label] += 1
    labels = TOY_TRACK[1:]
    expected = -np.mean(np.log(counts[labels] / counts.sum()))
    assert result["loss"] == pytest.approx(expected)
    assert result["no_event_accuracy"] == 1.0 and result["event_accuracy"] == 0.0


def test_an_untrained_network_is_near_uniform(capsys, toy_records):
    result = _evaluate(
        capsys,
        "--config",
        "toy_rnn",
        "--hparams",
        "rnn_layer_sizes=[16],attn_length=4",
        "--untrained",
        "--sequence_example_file",
        str(toy_records),
    )
    assert result["model"] == "untrained toy_rnn"
    assert abs(result["loss"] - math.log(4)) < 0.1


def test_errors(capsys, tmp_path, toy_records):
    assert main(["evaluate", "--untrained", "--sequence_example_file", str(toy_records)]) == 1
    assert "--untrained needs --config" in capsys.readouterr().err
    empty = tmp_path / "empty.tfrecord"
    empty.write_bytes(b"")
    assert (
        main(
            [
                "evaluate",
                "--config",
                "toy_rnn",
                "--unigram_from",
                str(toy_records),
                "--sequence_example_file",
                str(empty),
            ]
        )
        == 1
    )
    assert "no records in" in capsys.readouterr().err
