"""seqgen.load: every kind of source gives the same kind of model; old bundles still load; a bundle of a
family that is not installed says what to install."""

import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import seqgen
from seqgen import bundle, plugins, training
from seqgen.errors import SeqgenError
from seqgen.families.events_rnn.inference import random_weights
from seqgen.model import Model, Track

from support import MAGENTA

SMALL = "batch_size=2,rnn_layer_sizes=[16],attn_length=3,learning_rate=0.01"
TRACK = "[(36,), (42,), (), (38, 42), (42,), (36,)]"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A run dir trained 4 steps (checkpoints at 2 and 4) and a bundle saved from it."""
    from seqgen import records

    base = tmp_path_factory.mktemp("load")
    config = plugins.get_config("drum_kit").with_hparams(SMALL)
    tracks = [config.encoding.events_to_classes(config.tracks.parse_primer(TRACK * 1)) for _ in range(4)]
    records.write_class_records(base / "tracks.tfrecord", tracks)
    training.train(config, str(base / "run"), [str(base / "tracks.tfrecord")],
                   training.TrainOptions(num_training_steps=4, save_checkpoint_secs=0, save_checkpoint_steps=2, seed=1),
                   log=lambda line: None)
    return base / "run"


def likelihood(model):
    return model.score(TRACK).log_likelihood


def test_every_kind_of_source_loads_into_a_model(run, tmp_path):
    from_run = seqgen.load(run)
    from_checkpoint = seqgen.load(run / "train" / "ckpt-4")
    from_index = seqgen.load(str(run / "train" / "ckpt-4.index"))
    from_run.save(tmp_path / "saved.seqgen", "from the run")
    from_bundle = seqgen.load(tmp_path / "saved.seqgen")
    assert from_bundle.description == "from the run"
    for model in (from_run, from_checkpoint, from_index, from_bundle):
        assert isinstance(model, Model) and model.config.id == "drum_kit" and model.config.model == "events_rnn"
        assert likelihood(model) == pytest.approx(likelihood(from_run), abs=1e-6)
    assert likelihood(seqgen.load(run / "train" / "ckpt-2")) != pytest.approx(likelihood(from_run), abs=1e-6)

    shipped = seqgen.load("drum_kit_gmd")
    assert shipped.config.hparams.rnn_layer_sizes == (128, 128) and shipped.source == "drum_kit_gmd"
    mag = seqgen.load(MAGENTA / "one_drum_gmd_128x2_300steps.mag")
    assert mag.config.id == "one_drum" and mag.config.hparams.rnn_layer_sizes == (128, 128)


def test_checkpoints_are_keyed_by_variable_name(run):
    import tensorflow as tf

    keys = {name for name, _ in tf.train.list_variables(str(run / "train" / "ckpt-4"))}
    assert "weights/fully_connected.Sweights/.ATTRIBUTES/VARIABLE_VALUE" in keys
    assert not any(key.startswith("weights/v0/") for key in keys)


def test_generate_returns_tracks_that_become_midi_and_note_sequences(tmp_path):
    model = seqgen.load("drum_kit_gmd")
    tracks = model.generate(num_outputs=3, num_steps=32, primer="[(36, 42), (), (42,)]", seed=4, temperature=0.9)
    assert [len(t) for t in tracks] == [32, 32, 32] and all(isinstance(t, Track) for t in tracks)
    assert all(t.events[:3] == [frozenset({36, 42}), frozenset(), frozenset({42})] for t in tracks)
    assert [t.events for t in model.generate(3, 32, "[(36, 42), (), (42,)]", 0.9, seed=4)] == [t.events for t in tracks]
    tracks[0].write_midi(tmp_path / "a.mid")
    with pytest.raises(SeqgenError, match="already exists"):
        tracks[0].write_midi(tmp_path / "a.mid")
    sequence = tracks[0].to_note_sequence()
    assert sequence.tempos[0].qpm == 120 and all(n.is_drum for n in sequence.notes)
    assert len(sequence.notes) == sum(len(e) for e in tracks[0].events)


def test_a_format_1_bundle_still_loads(tmp_path):
    """The shipped model is a format-1 bundle (no model family recorded): it is an events_rnn."""
    path = plugins.get_config("drum_kit").default_bundle
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read(bundle.MANIFEST))
    assert manifest["format_version"] == 1 and "model" not in manifest
    assert bundle.load(path).config.model == "events_rnn"


def bundle_with(tmp_path, **changes):
    config = plugins.get_config("drum_kit").with_hparams("rnn_layer_sizes=[8],attn_length=0")
    source = tmp_path / f"source{len(list(tmp_path.iterdir()))}.seqgen"
    bundle.save(source, config, random_weights(config))
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members[bundle.MANIFEST] = json.dumps({**json.loads(members[bundle.MANIFEST]), **changes}).encode()
    target = source.with_name("changed_" + source.name)
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return target


def test_a_bundle_records_its_family_and_says_what_to_install_when_missing(tmp_path):
    manifest = json.loads(zipfile.ZipFile(bundle_with(tmp_path)).read(bundle.MANIFEST))
    assert manifest["format_version"] == 2
    assert (manifest["model"], manifest["model_plugin"], manifest["model_plugin_version"]) == (
        "events_rnn", "seqgen", seqgen.__version__)
    missing_plugin = bundle_with(tmp_path, model="wavenet", model_plugin="wavenets", model_plugin_version="1.2")
    with pytest.raises(SeqgenError, match=r"needs model family 'wavenet' from the seqgen plugin 'wavenets' "
                                          r"\(version 1.2\), which is not installed; install it \(pip install "
                                          r"seqgen-music-wavenets\)"):
        seqgen.load(missing_plugin)
    missing_family = bundle_with(tmp_path, model="wavenet")
    with pytest.raises(SeqgenError, match="needs model family 'wavenet', which the installed plugin 'seqgen' does "
                                          "not provide; upgrade it: pip install --upgrade seqgen-music"):
        seqgen.load(missing_family)


def test_unknown_sources_say_what_is_accepted(tmp_path):
    with pytest.raises(SeqgenError, match="nope does not exist; give a bundle file, a run directory, a checkpoint "
                                          "or a shipped model's name \\(drum_kit_control_gmd, drum_kit_gmd"):
        seqgen.load("nope")
    with pytest.raises(SeqgenError, match="is not a training run directory"):
        seqgen.load(tmp_path)


def test_loading_a_bundle_and_generating_imports_no_tensorflow():
    code = ("import sys, seqgen; m = seqgen.load('drum_kit_gmd'); m.generate(2, 16, seed=1); "
            "m.score('[(36,), (42,)]'); assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
