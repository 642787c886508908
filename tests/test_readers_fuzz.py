"""Property-based tests of every reader of user input: random bytes, and real files from tests/data with
bits flipped, bytes overwritten, inserted or deleted, or cut short. Each reader gives a result or a
SeqgenError, quickly: never another exception, a hang, or memory allocated from a length field that
was not checked against the file (a forged huge length is tried on purpose).

Readers: MIDI (seqgen.midi_reader, convert's per-file reader, render's reader), TFRecord framing
(seqgen.tfrecord) and record files (as train and evaluate check them, then seqgen.records), .seqgen bundles
(seqgen.bundle, then generation from what loaded: the shipped drum_kit_gmd's bytes, damaged) and --hparams
strings (HParams.parse, EventsRNNHParams, the toy plugin's config). The .mag reader has its own in
tests/test_mag_reader.py; the drums plugin's MIDI primers and primer strings are fuzzed in
plugins/drums/tests/test_drums_readers_fuzz.py.
"""

import functools
import io
import json
import os
import struct
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fuzzing import FAST, MIDI_FILES, SCRATCH, damaged, quick, scratch_file
from support import REPO
from seqgen import bundle, cli, convert, records, render, tfrecord
from seqgen.commands import record_files
from seqgen.crc32c import masked_crc32c_batch
from seqgen.errors import SeqgenError
from seqgen.families.events_rnn import EventsRNNHParams
from seqgen.hparams import HParams
from seqgen.midi_reader import read_midi_file
from seqgen.model import Model
from toy_plugin import TOY_RNN

pytestmark = pytest.mark.slow  # the fast lane, `pytest -m "not slow"`, leaves this module out

SHIPPED = REPO / "plugins" / "drums" / "seqgen_drums" / "models" / "drum_kit_gmd.seqgen"


# --- MIDI -------------------------------------------------------------------------------------------


@FAST
@given(damaged(*MIDI_FILES))
@quick
def test_midi_reader(data):
    try:
        midi = read_midi_file(data, "song.mid")
    except SeqgenError as error:
        assert "song.mid" in str(error)
        return
    assert midi.ticks_per_beat is not None


@FAST
@given(damaged(*MIDI_FILES))
@quick
def test_convert_reads_each_file_or_says_why(data):
    folder = os.path.join(SCRATCH, "convert")
    os.makedirs(folder, exist_ok=True)
    scratch_file(data, os.path.join("convert", "song.mid"))
    record, reason = convert.convert_file(folder, "song.mid")
    assert (record is None) != (reason is None)
    assert reason is None or (reason and "\n" not in reason)


@FAST
@given(damaged(*MIDI_FILES))
@quick
def test_render_reads_midi_lengths(data):
    path = scratch_file(data, "render.mid")
    try:
        seconds = render.midi_seconds(path)
    except SeqgenError:
        return
    assert seconds >= 0


# --- TFRecord files ----------------------------------------------------------------------------------


def _record_file_bytes() -> bytes:
    path = os.path.join(SCRATCH, "base.tfrecord")
    records.write_class_records(path, [[0, 1, 2, 3, 0, 0, 1, 2] * 4, [3, 0, 0, 1], [k % 4 for k in range(40)]])
    with open(path, "rb") as stream:
        return stream.read()


RECORDS = _record_file_bytes()


def _forged(length: int, tail: bytes = b"\0" * 16) -> bytes:
    """A record header claiming ``length`` bytes, its own checksum right, and little behind it."""
    header = struct.pack("<Q", length)
    return header + struct.pack("<I", int(masked_crc32c_batch([header])[0])) + tail


@FAST
@given(damaged(RECORDS, MIDI_FILES[0]))
@quick
def test_record_framing(data):
    path = scratch_file(data, "records.tfrecord")
    for read in (
        lambda: tfrecord.decode_records(data, "records.tfrecord"),
        lambda: tfrecord.read_records(path),
        lambda: tfrecord.scan(path),
        lambda: tfrecord.first_record(path),
        lambda: tfrecord.check_file(path),
    ):
        try:
            read()
        except SeqgenError as error:
            assert "records.tfrecord" in str(error)


@FAST
@given(
    st.one_of(damaged(RECORDS), st.lists(st.binary(max_size=64), min_size=1, max_size=4).map(tfrecord.encode_records))
)
@quick
def test_record_files_as_train_and_evaluate_check_them(data):
    """Framing and kind checked first (no length read unchecked), then seqgen.records reads the first record."""
    path = scratch_file(data, "train.tfrecord")
    try:
        files = record_files([path], TOY_RNN.encoding.num_classes)
    except SeqgenError:
        return
    assert files == [path]
    assert records.detect_format(path, TOY_RNN.encoding.num_classes) is not None


@pytest.mark.parametrize("length", [2**63 - 1, 2**40, 10**9, 17])
def test_a_forged_huge_length_is_refused_before_anything_is_read(length):
    data = _forged(length)
    path = scratch_file(data, "forged.tfrecord")
    for read in (
        lambda: tfrecord.decode_records(data, "forged.tfrecord"),
        lambda: tfrecord.read_records(path),
        lambda: tfrecord.scan(path),
        lambda: tfrecord.first_record(path),
        lambda: tfrecord.check_file(path),
        lambda: record_files([path]),
    ):
        with pytest.raises(
            SeqgenError,
            match=r"forged.tfrecord is not a TFRecord file or is truncated \(record 1 "
            r"ends past the end of the file\)",
        ):
            read()
    # after a good record too
    data = RECORDS + _forged(length)
    with pytest.raises(SeqgenError, match=r"record 4 ends past the end of the file"):
        tfrecord.scan(scratch_file(data, "forged.tfrecord"))


@pytest.mark.parametrize("command", ["train --config toy_rnn --run_dir {run}", "evaluate --config toy_rnn --untrained"])
def test_a_forged_length_through_the_commands(command, tmp_path, capsys, toy):
    path = scratch_file(_forged(2**62), "forged.tfrecord")
    argv = command.format(run=tmp_path / "run").split() + ["--sequence_example_file", path]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ends past the end of the file" in err
    assert not (tmp_path / "run").exists()


# --- bundles -----------------------------------------------------------------------------------------


@functools.cache
def _bundle_parts():
    with zipfile.ZipFile(SHIPPED) as archive:
        return json.loads(archive.read(bundle.MANIFEST)), archive.read(bundle.WEIGHTS)


def _zip(manifest, weights: bytes) -> bytes:
    holder = io.BytesIO()
    with zipfile.ZipFile(holder, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(bundle.MANIFEST, manifest if isinstance(manifest, (str, bytes)) else json.dumps(manifest))
        archive.writestr(bundle.WEIGHTS, weights)
    return holder.getvalue()


def _load_and_generate(path):
    """Load a bundle, then generate two steps from it: SeqgenError or a track."""
    try:
        loaded = bundle.load(path)
        tracks = Model(loaded.config, loaded.weights).generate(1, 3, seed=0)
    except SeqgenError:
        return None
    assert len(tracks[0]) == 3
    return tracks


@settings(FAST, max_examples=40)
@given(damaged(SHIPPED.read_bytes()[:200_000], SHIPPED.read_bytes()))
@quick
def test_bundle_bytes(data):
    _load_and_generate(scratch_file(data, "model.seqgen"))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@FAST
@given(st.data())
@quick
def test_bundle_manifests(data):
    """A well-formed zip whose manifest fields hold anything JSON can."""
    manifest, weights = _bundle_parts()
    manifest = dict(manifest)
    keys = sorted(manifest) + ["hparams.batch_size", "hparams.rnn_layer_sizes", "hparams.attn_length"]
    for key in data.draw(st.lists(st.sampled_from(keys), min_size=1, max_size=3)):
        value = data.draw(JSON)
        if key.startswith("hparams."):
            hparams = manifest.get("hparams")
            manifest["hparams"] = dict(hparams) if isinstance(hparams, dict) else {}
            manifest["hparams"][key.split(".", 1)[1]] = value
        elif data.draw(st.booleans()):
            manifest[key] = value
        else:
            manifest.pop(key, None)
    _load_and_generate(scratch_file(_zip(manifest, weights), "model.seqgen"))


def _npz(arrays: dict) -> bytes:
    holder = io.BytesIO()
    np.savez(holder, **arrays)
    return holder.getvalue()


def _forged_npy(shape) -> bytes:
    """A .npy whose header claims ``shape`` (float32) over a few bytes of data."""
    holder = io.BytesIO()
    np.lib.format.write_array_header_1_0(holder, {"descr": "<f4", "fortran_order": False, "shape": shape})
    return holder.getvalue() + b"\0" * 16


@pytest.mark.parametrize(
    "weights",
    [
        "forged_shape",
        "forged_small_shape",
        "object_array",
        "not_npz",
        "deep_json",
        "huge_member",
    ],
)
def test_damaged_bundle_parts(weights):
    manifest, good = _bundle_parts()
    if weights == "forged_shape":  # 4 TB claimed by one array's header
        holder = io.BytesIO()
        with zipfile.ZipFile(holder, "w") as npz:
            npz.writestr("fully_connected/weights.npy", _forged_npy((10**12,)))
        content = _zip(manifest, holder.getvalue())
    elif weights == "forged_small_shape":
        holder = io.BytesIO()
        with zipfile.ZipFile(holder, "w") as npz:
            npz.writestr("fully_connected/weights.npy", _forged_npy((64, 512)))
        content = _zip(manifest, holder.getvalue())
    elif weights == "object_array":
        content = _zip(manifest, _npz({"fully_connected/weights": np.array([{"x": 1}], dtype=object)}))
    elif weights == "not_npz":
        content = _zip(manifest, b"not an npz")
    elif weights == "deep_json":
        content = _zip("[" * 100_000 + "]" * 100_000, good)
    else:  # a member that claims more than a bundle may hold: refused before it is inflated
        holder = io.BytesIO()
        with zipfile.ZipFile(holder, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(bundle.MANIFEST, json.dumps(manifest))
            archive.writestr(bundle.WEIGHTS, b"\0" * (bundle.MAX_MEMBER_BYTES + 1))
        content = holder.getvalue()
    path = scratch_file(content, "parts.seqgen")
    with pytest.raises(SeqgenError, match="parts.seqgen"):
        bundle.load(path)


# --- --hparams strings ------------------------------------------------------------------------------

NAMES = EventsRNNHParams.names()
VALUES = st.one_of(
    st.text(max_size=12),
    st.integers().map(str),
    st.floats().map(str),
    st.lists(st.integers(-5, 10**12), max_size=4).map(lambda v: "[" + ",".join(map(str, v)) + "]"),
    st.sampled_from(["true", "false", "nan", "-inf", "[", "]", "[[1]]", "1e400", "0x10", "1_000"]),
)
HPARAMS_TEXT = st.one_of(
    st.text(max_size=80),
    st.lists(st.tuples(st.sampled_from(NAMES + ["x", ""]), st.sampled_from(["=", "", "=="]), VALUES), max_size=5).map(
        lambda parts: ",".join(name + sep + value for name, sep, value in parts)
    ),
)


@FAST
@given(HPARAMS_TEXT)
@quick
def test_hparams_strings(text):
    for parse in (
        lambda: EventsRNNHParams.parse(text),
        lambda: EventsRNNHParams().override(text),
        lambda: HParams().override(text),
        lambda: TOY_RNN.with_hparams(text),
    ):
        try:
            parse()
        except SeqgenError as error:
            assert "\n" not in str(error)


@FAST
@given(st.dictionaries(st.sampled_from(NAMES + ["unknown"]), JSON, max_size=4))
@quick
def test_hparams_from_a_run_or_bundle_record(values):
    try:
        hparams = EventsRNNHParams.from_dict(values)
    except SeqgenError:
        return
    assert EventsRNNHParams.from_dict(hparams.to_dict()) == hparams
