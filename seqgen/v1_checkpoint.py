"""TensorFlow V1 checkpoints and MetaGraphDefs read with NumPy and protobuf only, no TensorFlow.

A V1 single-file checkpoint (``tf.train.Saver(write_version=V1)``, the one inside Magenta ``.mag``
bundles) is a LevelDB-format SSTable (LevelDB's ``table_format.md``):

* a 48-byte footer: the metaindex and index block handles (varint64 offset, varint64 size), zero
  padding, and the magic number ``57 fb 80 8b 24 75 47 db``;
* blocks: entries ``varint32 shared, varint32 non_shared, varint32 value_length, key delta, value``
  (each key shares ``shared`` leading bytes with the previous one), then an array of uint32 restart
  offsets and their count; each block is followed by a type byte (0 = uncompressed) and the masked
  CRC32C of block and type byte;
* the index block maps a key to the handle of each data block.

Every value is a ``tensorflow.SavedTensorSlices`` proto (``tensorflow/core/util/saved_tensor_slice.proto``):
key ``""`` holds ``meta`` (name, shape, dtype and slices of every tensor); the others hold ``data``, one
slice of one tensor whose values are a ``TensorProto`` (``tensorflow/core/framework/tensor.proto``).

The protos are declared here with their public field numbers, under a private package name in a
private descriptor pool, so they never clash with TensorFlow's own when both are loaded. Each length
or offset read from the file is checked against the bytes that remain before anything is sliced or
allocated; every malformed input raises :class:`CheckpointError` (a SeqgenError).
"""

import struct

import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

from seqgen.crc32c import masked_crc32c
from seqgen.errors import SeqgenError


class CheckpointError(SeqgenError):
    """A V1 checkpoint or MetaGraphDef that cannot be read; the message says what is wrong."""


# ---------------------------------------------------------------------------------------------------
# Protobuf messages, built at import time from a FileDescriptorProto

_POOL = descriptor_pool.DescriptorPool()
_FIELD = descriptor_pb2.FieldDescriptorProto
_SCALARS = {
    "string": _FIELD.TYPE_STRING,
    "bytes": _FIELD.TYPE_BYTES,
    "int32": _FIELD.TYPE_INT32,
    "int64": _FIELD.TYPE_INT64,
    "bool": _FIELD.TYPE_BOOL,
}


def message_classes(file_name: str, package: str, messages: dict) -> dict:
    """Message classes in a private pool: ``{message: [(field, number, type[, "repeated" | "oneof NAME"])]}``.

    A type is a scalar name (enums are declared ``int32``, maps as repeated key=1/value=2 entry messages:
    the same bytes on the wire) or the name of another message of ``messages``.
    """
    proto = descriptor_pb2.FileDescriptorProto(name=file_name, package=package, syntax="proto3")
    for name, fields in messages.items():
        message = proto.message_type.add(name=name)
        oneofs = []
        for field_name, number, kind, *how in fields:
            field = message.field.add(
                name=field_name,
                number=number,
                json_name=field_name,
                label=_FIELD.LABEL_REPEATED if how == ["repeated"] else _FIELD.LABEL_OPTIONAL,
            )
            if kind in _SCALARS:
                field.type = _SCALARS[kind]
            else:
                field.type, field.type_name = _FIELD.TYPE_MESSAGE, f".{package}.{kind}"
            if how and how[0].startswith("oneof "):
                oneof = how[0].split()[1]
                if oneof not in oneofs:
                    oneofs.append(oneof)
                    message.oneof_decl.add(name=oneof)
                field.oneof_index = oneofs.index(oneof)
    _POOL.AddSerializedFile(proto.SerializeToString())
    classes = {}
    for name in messages:
        descriptor = _POOL.FindMessageTypeByName(f"{package}.{name}")
        if hasattr(message_factory, "GetMessageClass"):  # protobuf >= 4.21
            classes[name] = message_factory.GetMessageClass(descriptor)
        else:  # pragma: no cover
            classes[name] = message_factory.MessageFactory(_POOL).GetPrototype(descriptor)
    return classes


_TF = message_classes(
    "seqgen/tensorflow_v1.proto",
    "seqgen.tensorflow_v1",
    {
        # tensor_shape.proto
        "TensorShapeProto": [("dim", 2, "Dim", "repeated"), ("unknown_rank", 3, "bool")],
        "Dim": [("size", 1, "int64"), ("name", 2, "string")],
        # tensor_slice.proto: an extent without ``length`` spans the whole dimension
        "TensorSliceProto": [("extent", 1, "Extent", "repeated")],
        "Extent": [("start", 1, "int64"), ("length", 2, "int64", "oneof has_length")],
        # tensor.proto. float_val (5) and double_val (6) are packed repeated fields: declared as bytes
        # (the same wire type) they come back as their raw little-endian values, read with np.frombuffer.
        "TensorProto": [
            ("dtype", 1, "int32"),
            ("tensor_shape", 2, "TensorShapeProto"),
            ("tensor_content", 4, "bytes"),
            ("float_val", 5, "bytes"),
            ("double_val", 6, "bytes"),
            ("int_val", 7, "int32", "repeated"),
            ("int64_val", 10, "int64", "repeated"),
            ("bool_val", 11, "bool", "repeated"),
        ],
        # saved_tensor_slice.proto
        "SavedSliceMeta": [
            ("name", 1, "string"),
            ("shape", 2, "TensorShapeProto"),
            ("type", 3, "int32"),
            ("slice", 4, "TensorSliceProto", "repeated"),
        ],
        "SavedTensorSliceMeta": [("tensor", 1, "SavedSliceMeta", "repeated")],
        "SavedSlice": [("name", 1, "string"), ("slice", 2, "TensorSliceProto"), ("data", 3, "TensorProto")],
        "SavedTensorSlices": [("meta", 1, "SavedTensorSliceMeta"), ("data", 2, "SavedSlice")],
        # meta_graph.proto, graph.proto, node_def.proto, attr_value.proto: only what static shapes need
        "MetaGraphDef": [("graph_def", 2, "GraphDef"), ("collection_def", 4, "CollectionDefEntry", "repeated")],
        "CollectionDefEntry": [("key", 1, "string"), ("value", 2, "CollectionDef")],
        "CollectionDef": [("node_list", 1, "NodeList")],
        "NodeList": [("value", 1, "string", "repeated")],
        "GraphDef": [("node", 1, "NodeDef", "repeated")],
        "NodeDef": [
            ("name", 1, "string"),
            ("op", 2, "string"),
            ("input", 3, "string", "repeated"),
            ("attr", 5, "AttrEntry", "repeated"),
        ],
        "AttrEntry": [("key", 1, "string"), ("value", 2, "AttrValue")],
        "AttrValue": [("list", 1, "ListValue"), ("shape", 7, "TensorShapeProto"), ("tensor", 8, "TensorProto")],
        "ListValue": [("shape", 7, "TensorShapeProto", "repeated")],
    },
)
SavedTensorSlices = _TF["SavedTensorSlices"]
MetaGraphDef = _TF["MetaGraphDef"]

# DataType enum (types.proto) -> (packed-bytes field or None, repeated field, little-endian dtype)
_DTYPES = {
    1: ("float_val", None, "<f4"),
    2: ("double_val", None, "<f8"),
    3: (None, "int_val", "<i4"),
    9: (None, "int64_val", "<i8"),
    10: (None, "bool_val", "|b1"),
}


def parse(message_class, data, what: str):
    """``message_class`` parsed from ``data``; CheckpointError naming ``what`` when it is not one."""
    message = message_class()
    try:
        message.ParseFromString(bytes(data))
    except (DecodeError, RuntimeError, ValueError):
        raise CheckpointError(f"{what} is not a valid {message_class.DESCRIPTOR.name} protobuf") from None
    return message


# ---------------------------------------------------------------------------------------------------
# The SSTable

MAGIC = bytes.fromhex("57fb808b247547db")
FOOTER = 48
TRAILER = 5  # type byte + masked CRC32C


def _varint(buf, pos: int, end: int, max_bytes: int, what: str):
    """(value, next position) of the varint at ``pos``; at most ``max_bytes`` bytes, none past ``end``."""
    value = 0
    for i in range(max_bytes):
        if pos + i >= end:
            raise CheckpointError(f"{what} is cut off")
        byte = buf[pos + i]
        value |= (byte & 0x7F) << (7 * i)
        if byte < 0x80:
            return value, pos + i + 1
    raise CheckpointError(f"{what} is not a valid varint")


def _handle(buf, pos: int, end: int, what: str):
    offset, pos = _varint(buf, pos, end, 10, what)
    size, pos = _varint(buf, pos, end, 10, what)
    return offset, size, pos


def _block(data: bytes, offset: int, size: int, what: str) -> memoryview:
    """The contents of the block at (offset, size), its bounds and CRC checked."""
    if offset + size + TRAILER > len(data) - FOOTER:
        raise CheckpointError(
            f"{what} at byte {offset} ({size} bytes) runs past the end of the data ({len(data)} bytes in all)"
        )
    kind = data[offset + size]
    (stored,) = struct.unpack_from("<I", data, offset + size + 1)
    if masked_crc32c(memoryview(data)[offset : offset + size + 1]) != stored:
        raise CheckpointError(f"{what} at byte {offset} fails its CRC32C check")
    if kind != 0:
        raise CheckpointError(
            f"{what} at byte {offset} is compressed (block type {kind}); only "
            f"uncompressed checkpoints, as TensorFlow's V1 Saver writes them, can be read"
        )
    return memoryview(data)[offset : offset + size]


def _entries(block: memoryview, what: str):
    """(key, value) of each entry of a block; values are memoryviews into the block."""
    if len(block) < 4:
        raise CheckpointError(f"{what} is {len(block)} bytes, too short to be a block")
    (restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    if not 1 <= restarts <= (len(block) - 4) // 4:
        raise CheckpointError(f"{what} claims {restarts} restart points, which do not fit in its {len(block)} bytes")
    end = len(block) - 4 - 4 * restarts
    pos, key = 0, b""
    while pos < end:  # each entry moves pos on by at least its three varints
        shared, pos = _varint(block, pos, end, 5, f"an entry of {what}")
        unshared, pos = _varint(block, pos, end, 5, f"an entry of {what}")
        length, pos = _varint(block, pos, end, 5, f"an entry of {what}")
        if shared > len(key) or unshared + length > end - pos:
            raise CheckpointError(f"an entry of {what} claims more bytes than the block holds")
        key = key[:shared] + bytes(block[pos : pos + unshared])
        pos += unshared
        yield key, block[pos : pos + length]
        pos += length


def block_handles(data: bytes) -> list:
    """(offset, size) of every data block, from the footer and the index block, in file order."""
    if len(data) < FOOTER:
        raise CheckpointError(f"it is {len(data)} bytes long, shorter than a checkpoint's {FOOTER}-byte footer")
    if data[-8:] != MAGIC:
        raise CheckpointError("it does not end in the SSTable magic number")
    start = len(data) - FOOTER
    meta_offset, meta_size, pos = _handle(data, start, len(data) - 8, "the metaindex handle")
    index_offset, index_size, pos = _handle(data, pos, len(data) - 8, "the index handle")
    _block(data, meta_offset, meta_size, "the metaindex block")
    handles, end = [], 0
    for _, value in _entries(_block(data, index_offset, index_size, "the index block"), "the index block"):
        offset, size, _ = _handle(value, 0, len(value), "a data block handle")
        if offset < end:  # in order and disjoint: no block is read twice
            raise CheckpointError(f"data block handles overlap or are out of order at byte {offset}")
        end = offset + size + TRAILER
        handles.append((offset, size))
    if not handles:
        raise CheckpointError("its index lists no data blocks")
    return handles


def table_entries(data: bytes):
    """(key, value) of every entry of every data block, CRCs checked."""
    for offset, size in block_handles(data):
        yield from _entries(_block(data, offset, size, "a data block"), f"the data block at byte {offset}")


# ---------------------------------------------------------------------------------------------------
# Tensors


def _shape(shape_proto, what: str) -> tuple:
    if shape_proto.unknown_rank or any(dim.size < 0 for dim in shape_proto.dim):
        raise CheckpointError(f"{what} has an unknown shape")
    return tuple(dim.size for dim in shape_proto.dim)


def _is_full(slice_proto, shape: tuple) -> bool:
    """Whether a TensorSliceProto covers the whole tensor (full extents are stored without a length)."""
    if len(slice_proto.extent) not in (0, len(shape)):
        return False
    return all(
        e.start == 0 and (e.WhichOneof("has_length") is None or e.length == size)
        for e, size in zip(slice_proto.extent, shape)
    )


def _values(tensor, dtype: int, shape: tuple, name: str) -> np.ndarray:
    """The values of a TensorProto as a native-order array of ``shape``; nothing allocated unchecked."""
    packed, repeated, code = _DTYPES[dtype]
    count = 1
    for size in shape:
        count *= size
    item = np.dtype(code).itemsize
    raw = getattr(tensor, packed) if packed else b""
    if not raw and not (repeated and len(getattr(tensor, repeated))):
        raw = tensor.tensor_content
    if raw or count == 0:
        if len(raw) != count * item:
            raise CheckpointError(
                f"tensor {name!r} of shape {list(shape)} holds {len(raw) // item} values instead of {count}"
            )
        values = np.frombuffer(raw, code)
    else:
        listed = getattr(tensor, repeated)
        if len(listed) != count:
            raise CheckpointError(
                f"tensor {name!r} of shape {list(shape)} holds {len(listed)} values instead of {count}"
            )
        values = np.array(listed, dtype=code)
    return values.astype(np.dtype(code).newbyteorder("="), copy=True).reshape(shape)


def read_checkpoint(data: bytes) -> dict:
    """``{variable name: array}`` of a whole V1 single-file checkpoint held in ``data``.

    Each tensor must be saved as one slice covering it whole, as ``tf.train.Saver`` saves every
    variable that is not partitioned. Raises CheckpointError for anything else.
    """
    meta, slices = None, {}
    for key, value in table_entries(data):
        if meta is None:
            if key != b"":
                raise CheckpointError(
                    'its first entry is not the tensor list (key ""); it is not a TensorFlow V1 checkpoint'
                )
            meta = parse(SavedTensorSlices, value, "the tensor list").meta
            continue
        saved = parse(SavedTensorSlices, value, f"entry {bytes(key)[:60]!r}").data
        if saved.name in slices:
            raise CheckpointError(f"tensor {saved.name!r} is stored twice")
        slices[saved.name] = saved
    if meta is None:
        raise CheckpointError("it holds no entries")
    weights = {}
    for tensor in meta.tensor:
        name = tensor.name
        if name in weights:
            raise CheckpointError(f"tensor {name!r} is listed twice")
        if tensor.type not in _DTYPES:
            raise CheckpointError(
                f"tensor {name!r} has data type {tensor.type}; only float, double, int32, "
                f"int64 and bool tensors can be read"
            )
        shape = _shape(tensor.shape, f"tensor {name!r}")
        if len(tensor.slice) != 1 or not _is_full(tensor.slice[0], shape):
            pieces = f"in {len(tensor.slice)} slices" if len(tensor.slice) != 1 else "as a partial slice"
            raise CheckpointError(
                f"tensor {name!r} is saved {pieces}; only unpartitioned variables, saved whole, can be read"
            )
        saved = slices.pop(name, None)
        if saved is None:
            raise CheckpointError(f"tensor {name!r} is listed but its values are missing")
        if not _is_full(saved.slice, shape):
            raise CheckpointError(f"the values stored for tensor {name!r} do not cover it whole")
        if saved.data.dtype not in (0, tensor.type):
            raise CheckpointError(
                f"tensor {name!r} is listed as data type {tensor.type} but stored as {saved.data.dtype}"
            )
        weights[name] = _values(saved.data, tensor.type, shape, name)
    if slices:
        raise CheckpointError(
            f"values are stored for tensor {next(iter(slices))!r}, which the tensor list does not name"
        )
    return weights


# ---------------------------------------------------------------------------------------------------
# MetaGraphDef: collections and static shapes


class MetaGraph:
    """The collections and the nodes' static shapes of a serialized MetaGraphDef."""

    def __init__(self, data: bytes):
        meta = parse(MetaGraphDef, data, "the metagraph")
        self.collections = {entry.key: list(entry.value.node_list.value) for entry in meta.collection_def}
        self.nodes = {node.name: node for node in meta.graph_def.node}

    def collection(self, key: str) -> list:
        """The tensor names in a node-list collection (empty when there is none)."""
        return self.collections.get(key, [])

    def static_shape(self, tensor_name: str):
        """The static shape (-1 for an unknown size) of a tensor ``node:index``; None when unknown.

        From the ``_output_shapes`` attr that ``export_meta_graph`` adds, else, for Const and Fill
        nodes (what ``tf.zeros`` makes), from the constant or the constant shape it is filled to.
        """
        name, _, index = tensor_name.partition(":")
        index = int(index) if index.isascii() and index.isdigit() and len(index) < 10 else 0
        node = self.nodes.get(name)
        if node is None:
            return None
        attrs = {entry.key: entry.value for entry in node.attr}
        shapes = attrs["_output_shapes"].list.shape if "_output_shapes" in attrs else []
        shape = None
        if index < len(shapes) and not shapes[index].unknown_rank:
            shape = tuple(dim.size for dim in shapes[index].dim)
        if (shape is None or -1 in shape) and index == 0:
            if node.op == "Const" and "value" in attrs:
                shape = tuple(dim.size for dim in attrs["value"].tensor.tensor_shape.dim)
            elif node.op == "Fill" and node.input:
                dims = self._constant_ints(node.input[0], depth=0)
                shape = tuple(dims) if dims is not None else shape
        return shape

    def _constant_ints(self, tensor_name: str, depth: int):
        """The values of a small int32/int64 constant vector (Const, or ConcatV2/Pack of constants)."""
        node = self.nodes.get(tensor_name.partition(":")[0])
        if node is None or depth > 8:
            return None
        if node.op == "Const":
            attrs = {entry.key: entry.value for entry in node.attr}
            tensor = attrs["value"].tensor if "value" in attrs else None
            if tensor is None or tensor.dtype not in (3, 9):
                return None
            dims = [dim.size for dim in tensor.tensor_shape.dim]
            if len(dims) > 1:
                return None
            if tensor.tensor_content:
                code = "<i4" if tensor.dtype == 3 else "<i8"
                if len(tensor.tensor_content) % np.dtype(code).itemsize:
                    return None
                values = np.frombuffer(tensor.tensor_content, code).tolist()
            else:
                values = list(tensor.int_val if tensor.dtype == 3 else tensor.int64_val)
            return values if len(values) == (dims[0] if dims else 1) else None  # no broadcast scalars
        if node.op in ("ConcatV2", "Pack"):
            inputs = [i for i in node.input if not i.startswith("^")]
            parts = [self._constant_ints(i, depth + 1) for i in (inputs[:-1] if node.op == "ConcatV2" else inputs)]
            if any(part is None for part in parts):
                return None
            return [value for part in parts for value in part]
        return None
