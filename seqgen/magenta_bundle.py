"""Magenta ``.mag`` generator bundles: a GeneratorBundle protobuf holding a TF V1 checkpoint.

Magenta stores no hparams; they follow from the variable shapes (layer sizes, residual input
projections) and from the metagraph's initial-state shapes (attn_length). Everything is read with
NumPy and protobuf alone (:mod:`seqgen.v1_checkpoint`): neither TensorFlow nor note-seq is imported.
"""

import os
import types

import attrs

from seqgen import v1_checkpoint
from seqgen.errors import SeqgenError

ATTENTION_STATE = "AttentionCellWrapperZeroState/"
PREFIX = "rnn/multi_rnn_cell/cell_{}/"

# magenta/protobuf/generator.proto (note_seq.protobuf.generator_pb2), with its public field numbers
_MESSAGES = v1_checkpoint.message_classes("seqgen/magenta_generator.proto", "seqgen.magenta", {
    "GeneratorDetails": [("id", 1, "string"), ("description", 2, "string")],
    "BundleDetails": [("description", 1, "string")],
    "GeneratorBundle": [("generator_details", 1, "GeneratorDetails"), ("checkpoint_file", 2, "bytes", "repeated"),
                        ("metagraph_file", 3, "bytes"), ("bundle_details", 4, "BundleDetails")],
})
GeneratorBundle = _MESSAGES["GeneratorBundle"]


def _generator_pb2():
    """A stand-in for ``note_seq.protobuf.generator_pb2``: what writes a ``.mag`` needs (tests do)."""
    return types.SimpleNamespace(GeneratorBundle=GeneratorBundle, GeneratorDetails=_MESSAGES["GeneratorDetails"])


def _other_kind(data: bytes):
    """What a file that is clearly not a ``.mag`` is, with what to do; None when it may be one."""
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return ("a zip archive (a .seqgen bundle renamed?), not a Magenta .mag bundle; give it a .seqgen "
                "name and pass it as --bundle_file")
    if data.startswith(b"MThd"):
        return "a MIDI file, not a Magenta .mag bundle; pass a .mag file exported by Magenta"
    return None


def parse_bundle(data: bytes, path) -> "GeneratorBundle":
    """The GeneratorBundle message in ``data`` (the bytes of ``path``); SeqgenError when it is not one."""
    other = _other_kind(data)
    if other:
        raise SeqgenError(f"{path} is {other}")
    bundle = None
    try:
        bundle = v1_checkpoint.parse(GeneratorBundle, data, "the bundle")
    except SeqgenError:
        pass
    if bundle is None or not bundle.generator_details.id or len(bundle.checkpoint_file) != 1:
        raise SeqgenError(f"{path} is not a valid Magenta .mag bundle (truncated, corrupted or another kind "
                          f"of file); download or export it again")
    return bundle


def _checkpoint_weights(data: bytes, path) -> dict:
    try:
        return v1_checkpoint.read_checkpoint(data)
    except v1_checkpoint.CheckpointError as error:
        raise SeqgenError(f"the checkpoint inside {path} is truncated or corrupted: {error}; download or "
                          f"export the bundle again") from None


def layer_sizes(weights) -> list:
    """The RNN layer sizes: one per ``rnn/multi_rnn_cell/cell_k/`` prefix, its LSTM bias length // 4."""
    sizes = []
    while any(name.startswith(PREFIX.format(len(sizes))) for name in weights):
        prefix = PREFIX.format(len(sizes))
        biases = [value for name, value in weights.items()
                  if name.startswith(prefix) and name.endswith("basic_lstm_cell/bias")]
        if len(biases) != 1 or biases[0].ndim != 1 or not biases[0].shape[0] or biases[0].shape[0] % 4:
            raise SeqgenError(f"layer {len(sizes)} of the checkpoint has no LSTM bias of 4 x its size; it is "
                              f"not a Drums RNN style bundle")
        sizes.append(biases[0].shape[0] // 4)
    return sizes


def _attn_length(metagraph: bytes, size: int, path):
    """attn_length from the attention layer's initial-state shapes (its last state is L x H wide).

    The width is the static shape of the last ``AttentionCellWrapperZeroState/`` tensor in the
    ``initial_state`` collection: its ``_output_shapes`` attr, else the zeros constant (or the constant
    shape it is filled to). None when the metagraph does not tell; the caller falls back.
    """
    try:
        graph = v1_checkpoint.MetaGraph(metagraph)
    except v1_checkpoint.CheckpointError as error:
        raise SeqgenError(f"the metagraph inside {path} is truncated or corrupted: {error}; download or "
                          f"export the bundle again") from None
    names = [n for n in graph.collection("initial_state") if ATTENTION_STATE in n]
    if not names:
        return None
    shape = graph.static_shape(names[-1])
    if not shape or shape[-1] < 0:
        return None
    if shape[-1] == 0 or shape[-1] % size:
        raise SeqgenError(f"the attention state in {path} is {shape[-1]} wide, not a multiple of the first layer's "
                          f"{size} units; the bundle is corrupted: download or export it again")
    return shape[-1] // size


def load_bytes(data: bytes, path):
    """(config, weights, description) of the ``.mag`` bytes ``data`` read from ``path``."""
    from seqgen import plugins

    bundle = parse_bundle(data, path)
    config_id = bundle.generator_details.id
    if config_id not in plugins.configs():
        raise SeqgenError(f"Magenta bundle {path} is for generator {config_id!r}, which no installed seqgen "
                          f"plugin provides (known configs: {', '.join(sorted(plugins.configs())) or 'none'})")
    config = plugins.get_config(config_id)
    weights = _checkpoint_weights(bundle.checkpoint_file[0], path)
    sizes = layer_sizes(weights)
    if not sizes:
        raise SeqgenError(f"{path} holds no events-RNN weights; it is not a Drums RNN style bundle")
    attn_length = None
    if not any("attention_cell_wrapper/" in name for name in weights):
        attn_length = 0
    elif bundle.metagraph_file:
        attn_length = _attn_length(bundle.metagraph_file, sizes[0], path)
    if attn_length is None:
        # No metagraph, or none that states the attention state's width (attn_length is in no weight
        # shape): the config's own attn_length, which is what Magenta would build the graph with.
        attn_length = config.hparams.attn_length
    hparams = attrs.evolve(
        config.hparams, rnn_layer_sizes=tuple(sizes), attn_length=attn_length,
        residual_connections=any("input_projection_wrapper/" in name for name in weights))
    description = bundle.bundle_details.description or bundle.generator_details.description
    return attrs.evolve(config, hparams=hparams), weights, description


def load(path):
    """(config, weights, description) of a ``.mag`` file, for an installed plugin's config."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as error:
        raise SeqgenError(f"cannot read Magenta bundle {path}: {error.strerror}") from None
    return load_bytes(data, os.fspath(path))
