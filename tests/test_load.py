"""seqgen.load: every kind of source gives the same kind of model; old bundles still load; a bundle of a
family that is not installed says what to install. Models of the toy plugin (toy_plugin.py)."""

import json
import re
import subprocess
import sys
import zipfile

import attrs
import pytest

import seqgen
import toy_plugin
from seqgen import bundle, cli, plugins, training
from seqgen.errors import SeqgenError
from seqgen.families.events_rnn.inference import random_weights
from seqgen.hookspecs import hookimpl
from seqgen.model import Model, Track

from support import MAGENTA, installed_plugin

SMALL = "batch_size=2,rnn_layer_sizes=[16],attn_length=3,learning_rate=0.01"
TRACK = "[1, 2, 0, 3, 2, 1]"


@pytest.fixture(scope="module")
def run(tmp_path_factory, toy):
    """A run dir trained 4 steps (checkpoints at 2 and 4) and a bundle saved from it."""
    from seqgen import records

    base = tmp_path_factory.mktemp("load")
    config = plugins.get_config("toy_rnn").with_hparams(SMALL)
    tracks = [config.encoding.events_to_classes(config.tracks.parse_primer(TRACK * 1)) for _ in range(4)]
    records.write_class_records(base / "tracks.tfrecord", tracks)
    training.train(
        config,
        str(base / "run"),
        [str(base / "tracks.tfrecord")],
        training.TrainOptions(num_training_steps=4, save_checkpoint_secs=0, save_checkpoint_steps=2, seed=1),
        log=lambda line: None,
    )
    return base / "run"


def likelihood(model):
    return model.score(TRACK).log_likelihood


def shipping(*paths):
    """A plugin whose config toy_shipped ships the bundles at ``paths`` (seqgen.load knows each by its stem)."""
    config = attrs.evolve(toy_plugin.TOY_RNN, id="toy_shipped", pretrained=tuple(map(str, paths)))
    return type("Shipping", (), {"register_configs": staticmethod(hookimpl(lambda register: register(config)))})()


def test_every_kind_of_source_loads_into_a_model(run, tmp_path, registered):
    from_run = seqgen.load(run)
    from_checkpoint = seqgen.load(run / "train" / "ckpt-4")
    from_index = seqgen.load(str(run / "train" / "ckpt-4.index"))
    from_run.save(tmp_path / "saved.seqgen", "from the run")
    from_bundle = seqgen.load(tmp_path / "saved.seqgen")
    assert from_bundle.description == "from the run"
    for model in (from_run, from_checkpoint, from_index, from_bundle):
        assert isinstance(model, Model) and model.config.id == "toy_rnn" and model.config.model == "events_rnn"
        assert likelihood(model) == pytest.approx(likelihood(from_run), abs=1e-6)
    assert likelihood(seqgen.load(run / "train" / "ckpt-2")) != pytest.approx(likelihood(from_run), abs=1e-6)

    registered(shipping(tmp_path / "saved.seqgen"), "shipping")
    shipped = seqgen.load("saved")
    assert shipped.config.hparams.rnn_layer_sizes == (16,) and shipped.source == "saved"
    assert likelihood(shipped) == pytest.approx(likelihood(from_run), abs=1e-6)
    mag = seqgen.load(MAGENTA / "one_drum_gmd_128x2_300steps.mag")
    assert mag.config.id == "one_drum" and mag.config.hparams.rnn_layer_sizes == (128, 128)


def test_checkpoints_are_keyed_by_variable_name(run):
    import tensorflow as tf

    keys = {name for name, _ in tf.train.list_variables(str(run / "train" / "ckpt-4"))}
    assert "weights/fully_connected.Sweights/.ATTRIBUTES/VARIABLE_VALUE" in keys
    assert not any(key.startswith("weights/v0/") for key in keys)


def test_generate_returns_tracks_that_become_midi_and_note_sequences(run, tmp_path):
    model = seqgen.load(run)
    tracks = model.generate(num_outputs=3, num_steps=32, primer="[3, 0, 2]", seed=4, temperature=0.9)
    assert [len(t) for t in tracks] == [32, 32, 32] and all(isinstance(t, Track) for t in tracks)
    assert all(t.events[:3] == [3, 0, 2] for t in tracks)
    assert [t.events for t in model.generate(3, 32, "[3, 0, 2]", 0.9, seed=4)] == [t.events for t in tracks]
    tracks[0].write_midi(tmp_path / "a.mid")
    with pytest.raises(SeqgenError, match="already exists"):
        tracks[0].write_midi(tmp_path / "a.mid")
    sequence = tracks[0].to_note_sequence()
    assert sequence.tempos[0].qpm == 120 and sorted({n.pitch for n in sequence.notes}) == [60, 64, 67]
    assert len(sequence.notes) == sum(tracks[0].events) and not any(n.is_drum for n in sequence.notes)


def bundle_with(tmp_path, **changes):
    config = plugins.get_config("toy_rnn").with_hparams("rnn_layer_sizes=[8],attn_length=0")
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


def test_a_bundle_records_its_family_and_says_what_to_install_when_missing(tmp_path, toy):
    manifest = json.loads(zipfile.ZipFile(bundle_with(tmp_path)).read(bundle.MANIFEST))
    assert manifest["format_version"] == 2
    assert (manifest["model"], manifest["model_plugin"], manifest["model_plugin_version"]) == (
        "events_rnn",
        "seqgen",
        seqgen.__version__,
    )
    missing_plugin = bundle_with(tmp_path, model="wavenet", model_plugin="wavenets", model_plugin_version="1.2")
    with pytest.raises(
        SeqgenError,
        match=r"needs model family 'wavenet' from the seqgen plugin 'wavenets' "
        r"\(version 1.2\), which is not installed; install it \(pip install "
        r"seqgen-music-wavenets\)",
    ):
        seqgen.load(missing_plugin)
    missing_family = bundle_with(tmp_path, model="wavenet")
    with pytest.raises(
        SeqgenError,
        match="needs model family 'wavenet', which the installed plugin 'seqgen' does "
        "not provide; upgrade it: pip install --upgrade seqgen-music",
    ):
        seqgen.load(missing_family)


def test_unknown_sources_say_what_is_accepted(tmp_path, registered):
    registered(shipping(tmp_path / "toy_a.seqgen", tmp_path / "toy_b.seqgen"), "shipping")
    with pytest.raises(
        SeqgenError,
        match="nope does not exist; give a bundle file, a run directory, a checkpoint "
        "or a shipped model's name \\(.*toy_a, toy_b",
    ):
        seqgen.load("nope")
    with pytest.raises(SeqgenError, match="is not a training run directory"):
        seqgen.load(tmp_path)


def test_a_shipped_model_missing_from_its_install_is_named_with_how_to_reinstall(tmp_path, registered, capsys):
    """A wheel that lost its data: the shipped file is named, and generate says so in one line, writing nothing."""
    registered(shipping(tmp_path / "lost.seqgen"), "shipping")
    expected = (
        f"the shipped model file {tmp_path / 'lost.seqgen'} is missing from the installed shipping plugin; "
        f"reinstall it: pip install --force-reinstall seqgen-music-shipping"
    )
    with pytest.raises(SeqgenError, match=re.escape(expected)):
        seqgen.load("lost")
    assert cli.main(["generate", "--config", "toy_shipped", "--output_dir", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [f"seqgen generate: error: {expected}"] and not (tmp_path / "out").exists()


def test_loading_a_bundle_and_generating_imports_no_tensorflow(tmp_path, toy):
    config = plugins.get_config("toy_rnn").with_hparams("attn_length=2")
    bundle.save(tmp_path / "toy.seqgen", config, random_weights(config))
    code = (
        f"import sys, seqgen; m = seqgen.load({str(tmp_path / 'toy.seqgen')!r}); m.generate(2, 16, seed=1); "
        "m.score('[1, 0]'); assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=installed_plugin(tmp_path, "toy")
    )
    assert done.returncode == 0, done.stderr
