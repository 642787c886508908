"""Property-based tests of every reader of user input: random bytes, and real files from tests/data with
bits flipped, bytes overwritten, inserted or deleted, or cut short. Each reader gives a result or a
SeqgenError, quickly: never another exception, a hang, or memory allocated from a length field that
was not checked against the file (a forged huge length is tried on purpose).

Readers: MIDI (seqgen.midi_reader, convert's per-file reader, the drums plugin's MIDI primers, render's
reader), TFRecord framing (seqgen.tfrecord) and record files (as train and evaluate check them, then
seqgen.records), .seqgen bundles (seqgen.bundle, then generation from what loaded), primer strings (the
drums plugin's parse_primer) and --hparams strings (HParams.parse, EventsRNNHParams). The .mag reader
has its own in tests/test_mag_reader.py.
"""

import functools
import io
import json
import os
import struct
import tempfile
import time
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support import GROOVE, REPO
from groove_slice import FUNK, WALTZ
from seqgen import bundle, cli, convert, plugins, records, render, tfrecord
from seqgen.commands import record_files
from seqgen.errors import SeqgenError
from seqgen.families.events_rnn import EventsRNNHParams
from seqgen.hparams import HParams
from seqgen.midi_reader import read_midi_file
from seqgen.model import Model

FAST = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
#: "Quickly": no single example may take longer (a loaded test machine included); checked by ``quick``.
SECONDS = 20


def quick(test):
    """Fail an example that takes more than SECONDS (hypothesis' own deadline is too tight for busy machines)."""
    @functools.wraps(test)
    def timed(*args, **kwargs):
        started = time.monotonic()
        result = test(*args, **kwargs)
        assert time.monotonic() - started < SECONDS, f"took {time.monotonic() - started:.1f} s"
        return result

    return timed
SHIPPED = REPO / "plugins" / "drums" / "seqgen_drums" / "models" / "drum_kit_gmd.seqgen"
DRUM_KIT = plugins.get_config("drum_kit")
SCRATCH = tempfile.mkdtemp(prefix="seqgen_fuzz_")


def _file(content: bytes, name: str) -> str:
    path = os.path.join(SCRATCH, name)
    with open(path, "wb") as stream:
        stream.write(content)
    return path


@st.composite
def mutated(draw, base: bytes):
    """``base`` with one to four edits, often near the start where the headers are."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        where = draw(st.one_of(st.integers(0, min(63, len(data) - 1)), st.integers(0, len(data) - 1)))
        kind = draw(st.sampled_from(["flip", "overwrite", "insert", "delete", "truncate"]))
        if kind == "flip":
            data[where] ^= 1 << draw(st.integers(0, 7))
        elif kind == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=8))
            data[where:where + len(chunk)] = chunk
        elif kind == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[where:where + draw(st.integers(1, 64))]
        else:
            del data[where:]
    return bytes(data)


def damaged(*bases: bytes):
    """Random bytes, a base cut short, a mutated base, or a base with random bytes glued on."""
    base = st.sampled_from(bases)
    return st.one_of(st.binary(max_size=300),
                     st.tuples(base, st.integers(0, 1 << 20)).map(lambda b: b[0][:b[1] % (len(b[0]) + 1)]),
                     base.flatmap(mutated),
                     st.tuples(base, st.binary(min_size=1, max_size=64)).map(lambda b: b[0] + b[1]))


# --- MIDI -------------------------------------------------------------------------------------------

MIDI_FILES = tuple((GROOVE / name).read_bytes() for name in (FUNK, WALTZ))


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
    _file(data, os.path.join("convert", "song.mid"))
    record, reason = convert.convert_file(folder, "song.mid")
    assert (record is None) != (reason is None)
    assert reason is None or (reason and "\n" not in reason)


@FAST
@given(damaged(*MIDI_FILES))
@quick
def test_midi_primers(data):
    path = _file(data, "primer.mid")
    try:
        primer = DRUM_KIT.tracks.primer_from_midi(path, DRUM_KIT)
    except SeqgenError:
        return
    assert primer.events and len(primer.events) % primer.steps_per_bar == 0


@FAST
@given(damaged(*MIDI_FILES))
@quick
def test_render_reads_midi_lengths(data):
    path = _file(data, "render.mid")
    try:
        seconds = render.midi_seconds(path)
    except SeqgenError:
        return
    assert seconds >= 0


def test_a_note_far_away_is_refused_before_a_step_list_is_made(tmp_path):
    """One tick per quarter note at the slowest tempo: a second hit ten million ticks on would be 40 million
    steps (it once ran out of memory after half a minute)."""
    import mido

    midi = mido.MidiFile(type=0, ticks_per_beat=1)
    track = mido.MidiTrack([mido.MetaMessage("set_tempo", tempo=16_777_215, time=0)])
    for pitch, delta in ((36, 0), (38, 9_999_990)):
        track += [mido.Message("note_on", channel=9, note=pitch, velocity=100, time=delta),
                  mido.Message("note_off", channel=9, note=pitch, velocity=0, time=1)]
    midi.tracks.append(track)
    midi.save(tmp_path / "far.mid")
    started = time.monotonic()
    with pytest.raises(SeqgenError, match=r"far.mid spans \d+ steps .* more than a primer may \(100000\)"):
        DRUM_KIT.tracks.primer_from_midi(str(tmp_path / "far.mid"), DRUM_KIT)
    assert time.monotonic() - started < SECONDS


# --- TFRecord files ----------------------------------------------------------------------------------

def _record_file_bytes() -> bytes:
    path = os.path.join(SCRATCH, "base.tfrecord")
    records.write_class_records(path, [[0, 1, 2, 5, 9, 17, 0, 1] * 4, [3, 0, 0, 7], list(range(40))])
    with open(path, "rb") as stream:
        return stream.read()


RECORDS = _record_file_bytes()


def _forged(length: int, tail: bytes = b"\0" * 16) -> bytes:
    """A record header claiming ``length`` bytes, its own checksum right, and little behind it."""
    header = struct.pack("<Q", length)
    return header + struct.pack("<I", int(tfrecord.masked_crc32c_batch([header])[0])) + tail


@FAST
@given(damaged(RECORDS, MIDI_FILES[0]))
@quick
def test_record_framing(data):
    path = _file(data, "records.tfrecord")
    for read in (lambda: tfrecord.decode_records(data, "records.tfrecord"), lambda: tfrecord.read_records(path),
                 lambda: tfrecord.scan(path), lambda: tfrecord.first_record(path), lambda: tfrecord.check_file(path)):
        try:
            read()
        except SeqgenError as error:
            assert "records.tfrecord" in str(error)


@FAST
@given(st.one_of(damaged(RECORDS),
                 st.lists(st.binary(max_size=64), min_size=1, max_size=4).map(tfrecord.encode_records)))
@quick
def test_record_files_as_train_and_evaluate_check_them(data):
    """Framing and kind checked first (no length read unchecked), then seqgen.records reads the first record."""
    path = _file(data, "train.tfrecord")
    try:
        files = record_files([path], DRUM_KIT.encoding.num_classes)
    except SeqgenError:
        return
    assert files == [path]
    assert records.detect_format(path, DRUM_KIT.encoding.num_classes) is not None


@pytest.mark.parametrize("length", [2 ** 63 - 1, 2 ** 40, 10 ** 9, 17])
def test_a_forged_huge_length_is_refused_before_anything_is_read(length):
    data = _forged(length)
    path = _file(data, "forged.tfrecord")
    for read in (lambda: tfrecord.decode_records(data, "forged.tfrecord"), lambda: tfrecord.read_records(path),
                 lambda: tfrecord.scan(path), lambda: tfrecord.first_record(path), lambda: tfrecord.check_file(path),
                 lambda: record_files([path])):
        with pytest.raises(SeqgenError, match=r"forged.tfrecord is not a TFRecord file or is truncated \(record 1 "
                                              r"ends past the end of the file\)"):
            read()
    # after a good record too
    data = RECORDS + _forged(length)
    with pytest.raises(SeqgenError, match=r"record 4 ends past the end of the file"):
        tfrecord.scan(_file(data, "forged.tfrecord"))


@pytest.mark.parametrize("command", ["train --config drum_kit --run_dir {run}", "evaluate --bundle_file drum_kit_gmd"])
def test_a_forged_length_through_the_commands(command, tmp_path, capsys):
    path = _file(_forged(2 ** 62), "forged.tfrecord")
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
    _load_and_generate(_file(data, "model.seqgen"))


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=12)


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
    _load_and_generate(_file(_zip(manifest, weights), "model.seqgen"))


def _npz(arrays: dict) -> bytes:
    holder = io.BytesIO()
    np.savez(holder, **arrays)
    return holder.getvalue()


def _forged_npy(shape) -> bytes:
    """A .npy whose header claims ``shape`` (float32) over a few bytes of data."""
    holder = io.BytesIO()
    np.lib.format.write_array_header_1_0(holder, {"descr": "<f4", "fortran_order": False, "shape": shape})
    return holder.getvalue() + b"\0" * 16


@pytest.mark.parametrize("weights", [
    "forged_shape", "forged_small_shape", "object_array", "not_npz", "deep_json", "huge_member",
])
def test_damaged_bundle_parts(weights):
    manifest, good = _bundle_parts()
    if weights == "forged_shape":  # 4 TB claimed by one array's header
        holder = io.BytesIO()
        with zipfile.ZipFile(holder, "w") as npz:
            npz.writestr("fully_connected/weights.npy", _forged_npy((10 ** 12,)))
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
    path = _file(content, "parts.seqgen")
    with pytest.raises(SeqgenError, match="parts.seqgen"):
        bundle.load(path)


# --- primer strings ------------------------------------------------------------------------------------

PRIMER_TEXT = st.one_of(
    st.text(max_size=60),
    st.text(alphabet="[](),0123456789- ", max_size=60),
    st.recursive(st.integers(-200, 300).map(str) | st.sampled_from(["()", "[]", "True", "None", "'a'", "1.5"]),
                 lambda inner: st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]")
                 | st.lists(inner, max_size=4).map(lambda items: "(" + ", ".join(items) + ",)"), max_leaves=20),
    st.integers(1, 3000).map(lambda depth: "[" * depth + "]" * depth),
    st.integers(1, 3000).map(lambda depth: "(" * depth + ")" * depth),
    st.integers(1, 100_000).map(lambda digits: "[(" + "9" * digits + ",)]"),
)


@FAST
@given(PRIMER_TEXT)
@quick
def test_primer_strings(text):
    try:
        events = DRUM_KIT.tracks.parse_primer(text)
    except SeqgenError as error:
        assert "\n" not in str(error)[:200]
        return
    assert events and all(all(0 <= p <= 127 for p in event) for event in events)
    assert DRUM_KIT.tracks.parse_primer(DRUM_KIT.tracks.format_events(events)) == events


# --- --hparams strings ------------------------------------------------------------------------------

NAMES = EventsRNNHParams.names()
VALUES = st.one_of(st.text(max_size=12), st.integers().map(str), st.floats().map(str),
                   st.lists(st.integers(-5, 10 ** 12), max_size=4).map(lambda v: "[" + ",".join(map(str, v)) + "]"),
                   st.sampled_from(["true", "false", "nan", "-inf", "[", "]", "[[1]]", "1e400", "0x10", "1_000"]))
HPARAMS_TEXT = st.one_of(
    st.text(max_size=80),
    st.lists(st.tuples(st.sampled_from(NAMES + ["x", ""]), st.sampled_from(["=", "", "=="]), VALUES), max_size=5)
    .map(lambda parts: ",".join(name + sep + value for name, sep, value in parts)),
)


@FAST
@given(HPARAMS_TEXT)
@quick
def test_hparams_strings(text):
    for parse in (lambda: EventsRNNHParams.parse(text), lambda: EventsRNNHParams().override(text),
                  lambda: HParams().override(text), lambda: DRUM_KIT.with_hparams(text)):
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
