"""The pretrained drum models shipped in the drums plugin: drum_kit_transformer, the default of
`seqgen generate`, and the drum_kit events RNN (docs/models.md)."""

import json
import os
import zipfile

import pytest

import seqgen
from seqgen import bundle, plugins
from seqgen.cli import main
from seqgen.errors import SeqgenError
from seqgen.noteseq import midi_io
from support import GROOVE

CONFIG = plugins.get_config("drum_kit_transformer")
SHIPPED = ("drum_kit_transformer", "drum_kit")


@pytest.mark.parametrize("config_id", SHIPPED)
def test_shipped_bundles_hold_their_config_in_at_most_12_mb(config_id):
    from seqgen import bundle

    config = plugins.get_config(config_id)
    assert config.default_bundle and os.path.getsize(config.default_bundle) <= 12 * 2**20
    loaded = bundle.load(config.default_bundle)
    assert (loaded.config.plugin, loaded.config.id, loaded.config.model) == ("drums", config_id, config.model)


def test_the_shipped_events_rnn_loads_by_name_and_generates_drum_tracks(tmp_path):
    model = seqgen.load("drum_kit_gmd")
    assert model.config.hparams.rnn_layer_sizes == (128, 128) and model.source == "drum_kit_gmd"
    tracks = model.generate(num_outputs=3, num_steps=32, primer="[(36, 42), (), (42,)]", seed=4, temperature=0.9)
    assert [len(t) for t in tracks] == [32, 32, 32]
    assert all(t.events[:3] == [frozenset({36, 42}), frozenset(), frozenset({42})] for t in tracks)
    tracks[0].write_midi(tmp_path / "a.mid")
    with pytest.raises(SeqgenError, match="already exists"):
        tracks[0].write_midi(tmp_path / "a.mid")
    sequence = tracks[0].to_note_sequence()
    assert sequence.tempos[0].qpm == 120 and all(n.is_drum for n in sequence.notes)
    assert len(sequence.notes) == sum(len(e) for e in tracks[0].events)
    with pytest.raises(SeqgenError, match=r"a shipped model's name \(drum_kit_control_gmd, drum_kit_gmd"):
        seqgen.load("nope")


def test_the_shipped_events_rnn_is_a_format_1_bundle_that_still_loads():
    """A format-1 bundle records no model family: it is an events_rnn."""
    path = plugins.get_config("drum_kit").default_bundle
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read(bundle.MANIFEST))
    assert manifest["format_version"] == 1 and "model" not in manifest
    assert bundle.load(path).config.model == "events_rnn"


def test_the_transformer_is_the_default_model():
    from seqgen.loading import default_config

    assert default_config() == CONFIG and CONFIG.model == "transformer"


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
    assert (
        main(
            [
                "convert",
                "--input_dir",
                str(GROOVE),
                "--recursive",
                "--output_file",
                str(root / "notesequences.tfrecord"),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "create_dataset",
                "--config",
                "drum_kit",
                "--input",
                str(root / "notesequences.tfrecord"),
                "--output_dir",
                str(root / "drum_kit"),
                "--split_csv",
                str(GROOVE / "info.csv"),
                "--split_long_tracks",
            ]
        )
        == 0
    )
    return root / "drum_kit"


def _metrics(capsys, *args):
    assert main(["evaluate", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.mark.parametrize("config_id", SHIPPED)
def test_shipped_models_beat_the_unigram_baseline_on_the_groove_test_split(groove_splits, capsys, config_id):
    capsys.readouterr()
    test = str(groove_splits / "test_drum_tracks.tfrecord")
    model = _metrics(capsys, "--config", config_id, "--sequence_example_file", test)
    unigram = _metrics(
        capsys,
        "--config",
        "drum_kit",
        "--unigram_from",
        str(groove_splits / "train_drum_tracks.tfrecord"),
        "--sequence_example_file",
        test,
    )
    # The whole test split, as in docs/models.md: 98 windows, 33,439 steps.
    assert model["tracks"] == unigram["tracks"] == 98
    assert model["tokens"] == unigram["tokens"] == 33439
    assert model["perplexity"] < 0.8 * unigram["perplexity"]
    assert model["accuracy"] > unigram["accuracy"]
