""".mag bundles read without TensorFlow or note-seq: the V1 checkpoint reader, attn_length from the
metagraph, and a clear SeqgenError (never a traceback, a hang or a huge allocation) for any bad bytes."""

import functools
import pathlib
import struct
import subprocess
import sys
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqgen import magenta_bundle, plugins, v1_checkpoint
from seqgen.crc32c import masked_crc32c
from seqgen.families.events_rnn import magenta
from seqgen.errors import SeqgenError

DATA = pathlib.Path(__file__).parent / "data" / "magenta"
BUNDLES = {"drum_kit": "drum_kit_gmd_64x2_attn32_300steps.mag", "one_drum": "one_drum_gmd_128x2_300steps.mag"}
ATTN_LENGTH = {"drum_kit": 32, "one_drum": 0}
FAST = settings(max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.too_slow])


@functools.cache
def mag_bytes(config_id: str) -> bytes:
    path = DATA / BUNDLES[config_id]
    assert path.is_file(), f"{path} is missing: the reference .mag bundles belong in tests/data/magenta"
    return path.read_bytes()


@functools.cache
def checkpoint_bytes(config_id: str) -> bytes:
    return magenta_bundle.parse_bundle(mag_bytes(config_id), config_id).checkpoint_file[0]


# --- a minimal SSTable writer, to build damaged checkpoints whose CRCs are right ----------------------


def varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes(out + bytes([value]))


def block(entries, restarts=None) -> bytes:
    body = b"".join(varint(0) + varint(len(k)) + varint(len(v)) + k + v for k, v in entries)
    return body + struct.pack("<II", 0, 1) if restarts is None else body + restarts


def trailer(contents: bytes, kind: int = 0) -> bytes:
    return bytes([kind]) + struct.pack("<I", masked_crc32c(contents + bytes([kind])))


def table(blocks, keys=None) -> bytes:
    """An SSTable of raw data blocks (index keys: ``keys``, the blocks' last keys), an empty metaindex, the footer."""
    out, index = bytearray(), []
    for i, contents in enumerate(blocks):
        index.append((keys[i] if keys else b"\xff" * (i + 1), varint(len(out)) + varint(len(contents))))
        out += contents + trailer(contents)
    handles = b""
    for contents in (block([]), block(index)):
        handles += varint(len(out)) + varint(len(contents))
        out += contents + trailer(contents)
    return bytes(out + handles + bytes(40 - len(handles)) + v1_checkpoint.MAGIC)


def tensor_key(name: str, rank: int) -> bytes:
    """TensorFlow's OrderedCode key of a whole tensor: (0, name, rank, (start 0, length -1) per dim)."""
    escaped = b"".join({0: b"\x00\xff", 255: b"\xff\x00"}.get(byte, bytes([byte])) for byte in name.encode())
    return b"\x00" + escaped + b"\x00\x01" + (bytes([1, rank]) if rank else b"\x00") + b"\x80\x7f" * rank


def slices(meta=None, data=None) -> bytes:
    message = v1_checkpoint.SavedTensorSlices()
    for name, shape, dtype, extents in meta or []:
        tensor = message.meta.tensor.add(name=name, type=dtype)
        for size in shape:
            tensor.shape.dim.add(size=size)
        piece = tensor.slice.add()
        for start, length in extents if extents is not None else [(0, None)] * len(shape):
            extent = piece.extent.add(start=start)
            if length is not None:
                extent.length = length
    if data is not None:
        name, values = data
        message.data.name = name
        for _ in range(np.ndim(values)):
            message.data.slice.extent.add()
        message.data.data.dtype = 1
        message.data.data.float_val = np.asarray(values, "<f4").tobytes()
    return message.SerializeToString()


def checkpoint(tensors: dict, meta_extra=(), data_extra=()) -> bytes:
    """A V1 checkpoint of float tensors, one entry per block in key order, the way Saver lays it out."""
    meta = [(name, value.shape, 1, None) for name, value in tensors.items()] + list(meta_extra)
    entries = [(b"", slices(meta=meta))] + sorted(
        (tensor_key(name, np.ndim(value)), slices(data=(name, np.asarray(value))))
        for name, value in list(tensors.items()) + list(data_extra)
    )
    return table([block([entry]) for entry in entries], keys=[key for key, _ in entries])


def tf_read(data: bytes) -> dict:
    tf = pytest.importorskip("tensorflow")
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/model.ckpt"
        with open(path, "wb") as f:
            f.write(data)
        reader = tf.train.load_checkpoint(path)
        return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


def assert_same_weights(got: dict, expected: dict):
    assert sorted(got) == sorted(expected)
    for name, value in expected.items():
        assert got[name].dtype == value.dtype and got[name].shape == value.shape, name
        assert got[name].tobytes() == value.tobytes(), name


# --- (a) the same weights as TensorFlow reads, bit for bit ------------------------------------------------


@pytest.mark.parametrize("config_id", BUNDLES)
def test_weights_equal_tensorflows_bit_for_bit(config_id):
    data = checkpoint_bytes(config_id)
    expected = tf_read(data)
    assert len(expected) == {"drum_kit": 14, "one_drum": 6}[config_id]
    assert_same_weights(v1_checkpoint.read_checkpoint(data), expected)
    _, weights, _ = magenta_bundle.load(DATA / BUNDLES[config_id])
    assert_same_weights(weights, expected)


def test_tensorflow_reads_the_tables_these_tests_write():
    rng = np.random.default_rng(3)
    tensors = {
        "a/kernel": rng.standard_normal((5, 7)).astype(np.float32),
        "a/bias": rng.standard_normal(7).astype(np.float32),
        "s": np.float32(2.5).reshape(()),
    }
    data = checkpoint(tensors)
    assert_same_weights(tf_read(data), tensors)
    assert_same_weights(v1_checkpoint.read_checkpoint(data), tensors)


def test_declared_field_numbers_are_tensorflows_and_magentas():
    pytest.importorskip("tensorflow")
    import importlib

    from tensorflow.core.framework import attr_value_pb2, graph_pb2, node_def_pb2, tensor_pb2, tensor_shape_pb2
    from tensorflow.core.framework import tensor_slice_pb2
    from tensorflow.core.protobuf import meta_graph_pb2
    from tensorflow.core.util import saved_tensor_slice_pb2 as saved

    real = {
        "TensorShapeProto": tensor_shape_pb2.TensorShapeProto,
        "Dim": tensor_shape_pb2.TensorShapeProto.Dim,
        "TensorSliceProto": tensor_slice_pb2.TensorSliceProto,
        "Extent": tensor_slice_pb2.TensorSliceProto.Extent,
        "TensorProto": tensor_pb2.TensorProto,
        "SavedSliceMeta": saved.SavedSliceMeta,
        "SavedTensorSliceMeta": saved.SavedTensorSliceMeta,
        "SavedSlice": saved.SavedSlice,
        "SavedTensorSlices": saved.SavedTensorSlices,
        "MetaGraphDef": meta_graph_pb2.MetaGraphDef,
        "CollectionDefEntry": meta_graph_pb2.MetaGraphDef.CollectionDefEntry,
        "CollectionDef": meta_graph_pb2.CollectionDef,
        "NodeList": meta_graph_pb2.CollectionDef.NodeList,
        "GraphDef": graph_pb2.GraphDef,
        "NodeDef": node_def_pb2.NodeDef,
        "AttrEntry": node_def_pb2.NodeDef.AttrEntry,
        "AttrValue": attr_value_pb2.AttrValue,
        "ListValue": attr_value_pb2.AttrValue.ListValue,
    }
    mine = dict(v1_checkpoint._TF)
    try:
        from seqgen.noteseq import note_seq  # noqa: F401

        generator = importlib.import_module("note_seq.protobuf.generator_pb2")
        real.update(
            GeneratorBundle=generator.GeneratorBundle,
            GeneratorDetails=generator.GeneratorDetails,
            BundleDetails=generator.GeneratorBundle.BundleDetails,
        )
        mine.update(magenta_bundle._MESSAGES)
    except ImportError:
        pass
    for name, cls in mine.items():
        theirs = {f.name: f.number for f in real[name].DESCRIPTOR.fields}
        for field in cls.DESCRIPTOR.fields:
            assert theirs.get(field.name) == field.number, f"{name}.{field.name}"


# --- (b) attn_length from the metagraph ---------------------------------------------------------------------


@pytest.mark.parametrize("config_id", BUNDLES)
def test_attn_length_from_the_metagraph(config_id):
    config, weights, description = magenta_bundle.load(DATA / BUNDLES[config_id])
    assert config.id == config_id
    assert config.hparams.attn_length == ATTN_LENGTH[config_id]
    assert config.hparams.rnn_layer_sizes == {"drum_kit": (64, 64), "one_drum": (128, 128)}[config_id]
    assert description.startswith(f"drums_rnn {config_id}")


def test_attn_length_without_output_shapes_follows_the_fill_shape():
    bundle = magenta_bundle.parse_bundle(mag_bytes("drum_kit"), "drum_kit")
    meta = v1_checkpoint.MetaGraphDef()
    meta.ParseFromString(bundle.metagraph_file)
    for node in meta.graph_def.node:
        keep = [entry for entry in node.attr if entry.key != "_output_shapes"]
        del node.attr[:]
        node.attr.extend(keep)
    assert b"_output_shapes" not in meta.SerializeToString()
    assert magenta.attn_length(meta.SerializeToString(), 64, "x.mag") == 32


def test_without_a_metagraph_attn_length_is_the_configs():
    bundle = magenta_bundle.parse_bundle(mag_bytes("drum_kit"), "drum_kit")
    bundle.ClearField("metagraph_file")
    config, _, _ = magenta_bundle.load_bytes(bundle.SerializeToString(), "x.mag")
    assert config.hparams.attn_length == plugins.get_config("drum_kit").hparams.attn_length


# --- (c) neither TensorFlow nor note-seq is imported ----------------------------------------------------------


def test_reading_a_mag_imports_neither_tensorflow_nor_note_seq():
    code = (
        "import sys\n"
        "from seqgen import bundle, magenta_bundle\n"
        f"for name in {[str(DATA / f) for f in BUNDLES.values()]!r}:\n"
        "    magenta_bundle.load(name)\n"
        "    bundle.load(name)\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'note_seq', 'keras'))\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


# --- (d) bad bytes: only SeqgenError, one line, fast ------------------------------------------------------------


def only_seqgen_error(call, *args):
    try:
        return call(*args)
    except SeqgenError as error:
        assert "\n" not in str(error) and str(error)
        return error


@FAST
@given(st.binary(max_size=4096))
def test_random_bytes_as_a_mag(data):
    assert isinstance(only_seqgen_error(magenta_bundle.load_bytes, data, "x.mag"), SeqgenError)


@FAST
@given(st.binary(max_size=4096))
def test_random_bytes_as_a_checkpoint(data):
    assert isinstance(only_seqgen_error(v1_checkpoint.read_checkpoint, data), SeqgenError)


@FAST
@given(st.sampled_from(sorted(BUNDLES)), st.floats(0, 1, exclude_max=True))
def test_truncated_mag(config_id, fraction):
    data = mag_bytes(config_id)
    only_seqgen_error(magenta_bundle.load_bytes, data[: int(len(data) * fraction)], "x.mag")


@FAST
@given(
    st.sampled_from(sorted(BUNDLES)),
    st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=8),
)
def test_mutated_mag(config_id, changes):
    data = bytearray(mag_bytes(config_id))
    for where, value in changes:
        data[int(where * len(data))] = value
    only_seqgen_error(magenta_bundle.load_bytes, bytes(data), "x.mag")


@FAST
@given(
    st.sampled_from(sorted(BUNDLES)),
    st.lists(
        st.tuples(st.integers(0, 10**6), st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=6
    ),
)
def test_mutated_checkpoint_with_its_crcs_repaired(config_id, changes):
    """Damage past the CRC check: the block, entry and proto parsers see the bad bytes."""
    data = bytearray(checkpoint_bytes(config_id))
    footer = len(data) - v1_checkpoint.FOOTER
    blocks = v1_checkpoint.block_handles(bytes(data))
    meta_offset, meta_size, pos = v1_checkpoint._handle(data, footer, len(data), "")
    index_offset, index_size, _ = v1_checkpoint._handle(data, pos, len(data), "")
    blocks += [(meta_offset, meta_size), (index_offset, index_size)]
    for which, where, value in changes:
        offset, size = blocks[which % len(blocks)]
        data[offset + int(where * size)] = value
        data[offset + size : offset + size + 5] = trailer(bytes(data[offset : offset + size]), data[offset + size])
    result = only_seqgen_error(v1_checkpoint.read_checkpoint, bytes(data))
    assert isinstance(result, (SeqgenError, dict))


@FAST
@given(st.binary(max_size=2048))
def test_random_bytes_as_a_metagraph(data):
    only_seqgen_error(magenta.attn_length, data, 64, "x.mag")


# --- named damage: what the message says ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "damage,message",
    [
        ("empty", "not a valid Magenta .mag bundle"),
        ("random", "not a valid Magenta .mag bundle"),
        ("truncated", "truncated"),
        ("zip", "zip archive"),
        ("midi", "MIDI file"),
        ("bad crc", "CRC32C"),
        ("cut checkpoint", "checkpoint inside"),
    ],
)
def test_damaged_files_say_what_is_wrong(tmp_path, damage, message):
    data = mag_bytes("one_drum")
    bundle = magenta_bundle.parse_bundle(data, "x")
    checkpoint_data = bytearray(bundle.checkpoint_file[0])
    if damage == "bad crc":
        checkpoint_data[100] ^= 1
    elif damage == "cut checkpoint":
        del checkpoint_data[1000:2000]
    del bundle.checkpoint_file[:]
    bundle.checkpoint_file.append(bytes(checkpoint_data))
    content = {
        "empty": b"",
        "random": np.random.default_rng(0).bytes(5000),
        "truncated": data[: len(data) // 2],
        "zip": b"PK\x03\x04" + data[4:],
        "midi": b"MThd\x00\x00\x00\x06" + data[8:],
    }.get(damage, bundle.SerializeToString())
    path = tmp_path / "broken.mag"
    path.write_bytes(content)
    with pytest.raises(SeqgenError, match=message) as caught:
        magenta_bundle.load(path)
    assert "\n" not in str(caught.value)


def test_a_missing_file(tmp_path):
    with pytest.raises(SeqgenError, match="cannot read Magenta bundle"):
        magenta_bundle.load(tmp_path / "absent.mag")


TENSOR = {"w": np.arange(6, dtype=np.float32).reshape(2, 3)}


@pytest.mark.parametrize(
    "make,message",
    [
        # lengths that claim more than is there: refused before anything is sliced or allocated
        (
            lambda: checkpoint(
                {}, meta_extra=[("big", (2**40, 2**40), 1, None)], data_extra=[("big", np.ones((1, 1)))]
            ),
            "holds 1 values instead of 1208925819614629174706176",
        ),
        (
            lambda: table([varint(0) + varint(1) + varint(2**32 - 1) + b"k" + struct.pack("<II", 0, 1)]),
            "claims more bytes than the block holds",
        ),
        (lambda: table([block([(b"", b"")], restarts=struct.pack("<I", 2**31))]), "restart points"),
        (
            lambda: table([varint(3) + varint(1) + varint(0) + b"k" + struct.pack("<II", 0, 1)]),
            "claims more bytes than the block holds",
        ),
        (lambda: table([b"\x80" * 12 + struct.pack("<II", 0, 1)]), "not a valid varint"),
        (lambda: checkpoint(TENSOR)[:-48] + b"\xff" * 40 + v1_checkpoint.MAGIC, "not a valid varint"),
        (
            lambda: checkpoint(TENSOR)[:-48] + varint(2**62) + varint(2**62) + bytes(30) + v1_checkpoint.MAGIC,
            "runs past the end",
        ),
        (lambda: checkpoint(TENSOR)[:-1] + b"\x00", "magic number"),
        (lambda: checkpoint(TENSOR)[:47], "shorter than"),
        # a well-formed table that is not a consistent checkpoint
        (lambda: table([block([(b"a", slices())])]), "first entry is not the tensor list"),
        (lambda: table([block([(b"", b"\xff\xff")])]), "not a valid SavedTensorSlices protobuf"),
        (lambda: checkpoint({}, meta_extra=[("w", (2, 3), 1, None)]), "values are missing"),
        (lambda: checkpoint(TENSOR, data_extra=[("w", np.zeros((2, 3)))]), "stored twice"),
        (lambda: checkpoint(TENSOR, data_extra=[("v", np.zeros((2, 3)))]), "does not name"),
        (
            lambda: checkpoint({}, meta_extra=[("w", (2, 3), 1, None)], data_extra=[("w", np.zeros(6))]),
            "do not cover it whole",
        ),
        (
            lambda: checkpoint(
                {}, meta_extra=[("w", (2, 3), 1, [(0, 1), (0, 3)])], data_extra=[("w", np.zeros((2, 3)))]
            ),
            "as a partial slice",
        ),
        (lambda: checkpoint({}, meta_extra=[("w", (2,), 7, None)], data_extra=[("w", np.zeros(2))]), "data type 7"),
        (
            lambda: checkpoint({}, meta_extra=[("w", (2, 3), 1, None)], data_extra=[("w", np.zeros((1, 5)))]),
            "holds 5 values instead of 6",
        ),
        (
            lambda: checkpoint({}, meta_extra=[("w", (-1, 3), 1, None)], data_extra=[("w", np.zeros((1, 3)))]),
            "unknown shape",
        ),
    ],
)
def test_malformed_checkpoints(make, message):
    with pytest.raises(v1_checkpoint.CheckpointError, match=message):
        v1_checkpoint.read_checkpoint(make())


def test_a_compressed_block_is_refused_as_such():
    contents = block([(b"", slices(meta=[]))])
    data = bytearray(table([contents]))
    data[len(contents) : len(contents) + 5] = trailer(contents, kind=1)
    with pytest.raises(v1_checkpoint.CheckpointError, match="compressed"):
        v1_checkpoint.read_checkpoint(bytes(data))


def test_overlapping_block_handles_are_refused():
    contents = block([(b"", slices(meta=[]))])
    data = bytearray(table([contents]))
    # an index listing the same block twice
    index = block([(b"\xff", varint(0) + varint(len(contents))), (b"\xff\xff", varint(0) + varint(len(contents)))])
    metaindex = block([])
    out = bytes(data[: len(contents) + 5])
    handles = varint(len(out)) + varint(len(metaindex))
    out += metaindex + trailer(metaindex)
    handles += varint(len(out)) + varint(len(index))
    out += index + trailer(index)
    out += handles + bytes(40 - len(handles)) + v1_checkpoint.MAGIC
    with pytest.raises(v1_checkpoint.CheckpointError, match="overlap"):
        v1_checkpoint.read_checkpoint(out)


def test_the_configs_family_reads_the_hparams_and_one_that_cannot_says_so():
    bundle = magenta_bundle.parse_bundle(mag_bytes("drum_kit"), "drum_kit")
    bundle.generator_details.id = "drum_kit_transformer"
    with pytest.raises(
        SeqgenError,
        match="x.mag holds weights without hparams, which the transformer model family "
        "cannot read; give a seqgen bundle",
    ):
        magenta_bundle.load_bytes(bundle.SerializeToString(), "x.mag")
