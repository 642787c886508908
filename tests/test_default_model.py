"""The pretrained drum_kit model shipped in the drums plugin: the default of `seqgen generate`."""

import json
import os

import pytest

from seqgen import plugins
from seqgen.cli import main
from seqgen.noteseq import midi_io
from conftest import GROOVE

CONFIG = plugins.get_config("drum_kit")


def test_shipped_bundle_is_a_drum_kit_bundle_of_at_most_12_mb():
    from seqgen import bundle

    assert CONFIG.default_bundle and os.path.getsize(CONFIG.default_bundle) <= 12 * 2 ** 20
    loaded = bundle.load(CONFIG.default_bundle)
    assert (loaded.config.plugin, loaded.config.id) == ("drums", "drum_kit")


def test_generate_without_a_model_flag_writes_ten_drum_tracks_of_128_steps(tmp_path, capsys):
    assert main(["generate", "--output_dir", str(tmp_path), "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert f"wrote 10 drum tracks of 128 steps to {tmp_path}" in out
    files = sorted(tmp_path.glob("*.mid"))
    assert len(files) == 10
    seconds_per_step = 60 / 120 / CONFIG.steps_per_quarter
    for path in files:
        sequence = midi_io.midi_file_to_note_sequence(str(path))
        assert sequence.notes and all(note.is_drum for note in sequence.notes)
        assert max(note.start_time for note in sequence.notes) < 128 * seconds_per_step
    # A pretrained model plays more than the bass drum it was primed with.
    pitches = {note.pitch for path in files for note in midi_io.midi_file_to_note_sequence(str(path)).notes}
    assert len(pitches) >= 3


@pytest.fixture(scope="module")
def groove_splits(tmp_path_factory):
    """drum_kit records made as docs/models.md says, from the Groove slice in tests/data: the whole test
    split, and every 8th training performance (enough for the unigram baseline's class frequencies)."""
    root = tmp_path_factory.mktemp("groove")
    assert main(["convert", "--input_dir", str(GROOVE), "--recursive",
                 "--output_file", str(root / "notesequences.tfrecord")]) == 0
    assert main(["create_dataset", "--config", "drum_kit", "--input", str(root / "notesequences.tfrecord"),
                 "--output_dir", str(root / "drum_kit"), "--split_csv", str(GROOVE / "info.csv"),
                 "--split_long_tracks"]) == 0
    return root / "drum_kit"


def _metrics(capsys, *args):
    assert main(["evaluate", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_shipped_model_beats_the_unigram_baseline_on_the_groove_test_split(groove_splits, capsys):
    capsys.readouterr()
    test = str(groove_splits / "test_drum_tracks.tfrecord")
    model = _metrics(capsys, "--sequence_example_file", test)
    unigram = _metrics(capsys, "--config", "drum_kit", "--unigram_from",
                       str(groove_splits / "train_drum_tracks.tfrecord"), "--sequence_example_file", test)
    # The whole test split, as in docs/models.md: 98 windows, 33,439 steps.
    assert model["tracks"] == unigram["tracks"] == 98
    assert model["tokens"] == unigram["tokens"] == 33439
    assert model["perplexity"] < 0.8 * unigram["perplexity"]
    assert model["accuracy"] > unigram["accuracy"]
