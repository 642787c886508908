"""seqgen bundles (of the toy plugin's events RNN): a round trip keeps the model exactly; every damaged or foreign
file gets a clear error."""

import io
import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from seqgen import bundle, plugins
from seqgen.cli import main
from seqgen.families.events_rnn.inference import random_weights
from seqgen.model import Model

from support import MAGENTA, installed_plugin

TRACK = "[1, 2, 0, 1, 3, 0, 1, 2, 1]"


@pytest.fixture(scope="module")
def saved(tmp_path_factory, toy):
    """A toy_rnn bundle with attention (small random weights), its config and weights."""
    config = plugins.get_config("toy_rnn").with_hparams("rnn_layer_sizes=[32,24],attn_length=4")
    weights = random_weights(config, scale=0.5)
    path = tmp_path_factory.mktemp("bundle") / "model.seqgen"
    bundle.save(path, config, weights, "a test model")
    return path, config, weights


def rewrite(source, target, manifest=None, weights=None):
    """Copy a bundle, replacing its manifest (a dict or raw bytes) or weights member."""
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    if manifest is not None:
        members[bundle.MANIFEST] = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
    if weights is not None:
        members[bundle.WEIGHTS] = weights
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return target


def test_round_trip_keeps_probabilities_and_description(saved):
    path, config, weights = saved
    loaded = bundle.load(path)
    assert loaded.description == "a test model"
    assert loaded.config.id == "toy_rnn" and loaded.config.plugin == "toy"
    assert loaded.config.hparams == config.hparams
    events = config.tracks.parse_primer(TRACK)
    before = Model(config, weights).generator.log_likelihood(events)
    after = Model(loaded.config, loaded.weights).generator.log_likelihood(events)
    assert before[0] == after[0]
    np.testing.assert_array_equal(before[1], after[1])


def test_manifest_describes_the_model(saved):
    path, config, _ = saved
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read(bundle.MANIFEST))
    assert manifest["format_version"] == bundle.FORMAT_VERSION
    assert manifest["plugin"] == "toy" and manifest["plugin_version"] == "0.1"
    assert manifest["config"] == "toy_rnn" and manifest["steps_per_quarter"] == 4
    assert (manifest["input_size"], manifest["num_classes"]) == (6, 4)
    assert manifest["hparams"]["rnn_layer_sizes"] == [32, 24] and manifest["hparams"]["attn_length"] == 4


def test_generate_from_bundle_needs_no_other_flag_and_no_tensorflow(saved, tmp_path):
    path, _, _ = saved
    out = tmp_path / "out"
    code = (
        "import sys; from seqgen.cli import main; "
        f"rc = main(['generate', '--bundle_file', {str(path)!r}, '--output_dir', {str(out)!r}]); "
        "assert 'tensorflow' not in sys.modules, 'TensorFlow was imported'; sys.exit(rc)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=installed_plugin(tmp_path, "toy")
    )
    assert done.returncode == 0, done.stderr
    assert len(list(out.glob("*.mid"))) == 10


def test_save_refuses_to_overwrite(saved, tmp_path):
    _, config, weights = saved
    target = tmp_path / "taken.seqgen"
    target.write_bytes(b"user data")
    with pytest.raises(bundle.SeqgenError, match="already exists"):
        bundle.save(target, config, weights)
    assert target.read_bytes() == b"user data"


def damaged(kind, source, tmp_path):
    data = source.read_bytes()
    target = tmp_path / f"{kind}.seqgen"
    if kind == "truncated":
        target.write_bytes(data[: len(data) * 2 // 3])
    elif kind == "corrupted":
        middle = len(data) // 2
        target.write_bytes(data[:middle] + bytes(b ^ 0x5A for b in data[middle : middle + 64]) + data[middle + 64 :])
    elif kind == "random":
        target.write_bytes(np.random.default_rng(0).bytes(len(data) // 10))
    elif kind == "empty":
        target.write_bytes(b"")
    elif kind == "not_json":
        rewrite(source, target, manifest=b"{not json")
    elif kind == "pickled_weights":
        arrays = io.BytesIO()
        np.save(arrays, np.array([{"code": "run me"}], dtype=object), allow_pickle=True)
        holder = io.BytesIO()
        with zipfile.ZipFile(holder, "w") as npz:
            npz.writestr("fully_connected/weights.npy", arrays.getvalue())
        rewrite(source, target, weights=holder.getvalue())
    return target


@pytest.mark.parametrize("kind", ["truncated", "corrupted", "random", "empty", "not_json", "pickled_weights"])
def test_damaged_bundles_get_a_one_line_error(saved, tmp_path, capsys, kind):
    path = damaged(kind, saved[0], tmp_path)
    assert main(["generate", "--bundle_file", str(path), "--output_dir", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "not a valid seqgen bundle" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def manifest_of(path):
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read(bundle.MANIFEST))


def test_missing_plugin_is_named_with_how_to_install(saved, tmp_path):
    manifest = dict(manifest_of(saved[0]), plugin="melody", plugin_version="2.0")
    path = rewrite(saved[0], tmp_path / "melody.seqgen", manifest=manifest)
    with pytest.raises(bundle.SeqgenError, match=r"plugin 'melody' \(version 2.0\).*not installed.*pip install"):
        bundle.load(path)


def test_newer_format_version_says_to_upgrade(saved, tmp_path):
    manifest = dict(manifest_of(saved[0]), format_version=bundle.ADAPTED_FORMAT_VERSION + 1)
    path = rewrite(saved[0], tmp_path / "newer.seqgen", manifest=manifest)
    with pytest.raises(bundle.SeqgenError, match="newer than this seqgen reads.*upgrade"):
        bundle.load(path)


def test_encoding_mismatch_is_reported(saved, tmp_path):
    manifest = dict(manifest_of(saved[0]), num_classes=5, input_size=7)
    path = rewrite(saved[0], tmp_path / "other.seqgen", manifest=manifest)
    with pytest.raises(bundle.SeqgenError, match="7 inputs and 5 classes"):
        bundle.load(path)


def test_missing_bundle_file(tmp_path, capsys):
    assert main(["score", "--bundle_file", str(tmp_path / "nope.seqgen"), "--events", "[1]"]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_mag_loads_wherever_a_bundle_does(capsys):
    path = MAGENTA / "one_drum_gmd_128x2_300steps.mag"
    assert main(["score", "--bundle_file", str(path), "--events", "[(36,), (), (38,)]"]) == 0
    assert "log_likelihood" in capsys.readouterr().out
