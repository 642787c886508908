"""Magenta ``.mag`` generator bundles: a GeneratorBundle protobuf holding a TF V1 checkpoint.

Magenta stores no hparams; they follow from the variable shapes (layer sizes, residual input
projections) and from the metagraph's initial-state shapes (attn_length). Reading the checkpoint needs
TensorFlow, imported only here; convert once with ``seqgen import_bundle`` to load without it.
"""

import importlib
import os
import tempfile

import attrs

from seqgen.errors import SeqgenError
from seqgen.inference import layer_sizes

ATTENTION_STATE = "AttentionCellWrapperZeroState/"


def _generator_pb2():
    from seqgen.noteseq import note_seq  # noqa: F401 (registers note_seq without its heavy __init__)

    return importlib.import_module("note_seq.protobuf.generator_pb2")


def read_proto(path):
    """The GeneratorBundle message of a ``.mag`` file; SeqgenError when it is not one."""
    from google.protobuf.message import DecodeError

    bundle = _generator_pb2().GeneratorBundle()
    try:
        with open(path, "rb") as f:
            bundle.ParseFromString(f.read())
    except OSError as error:
        raise SeqgenError(f"cannot read Magenta bundle {path}: {error.strerror}") from None
    except DecodeError:
        bundle = None
    if bundle is None or not bundle.generator_details.id or len(bundle.checkpoint_file) != 1:
        raise SeqgenError(f"{path} is not a valid Magenta .mag bundle (truncated, corrupted or another kind "
                          f"of file); download or export it again")
    return bundle


def _checkpoint_weights(data: bytes, path) -> dict:
    import tensorflow as tf

    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = os.path.join(tmp, "model.ckpt")
        with open(checkpoint, "wb") as f:
            f.write(data)
        try:
            reader = tf.train.load_checkpoint(checkpoint)
            return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}
        except Exception as error:  # TensorFlow raises many kinds for a damaged checkpoint
            raise SeqgenError(f"the checkpoint inside {path} cannot be read ({type(error).__name__}); the "
                              f"bundle is truncated or corrupted") from None


def _attn_length(metagraph: bytes, weights: dict) -> int:
    """attn_length from the attention layer's initial-state shapes (its last state is L x H wide)."""
    import tensorflow as tf

    meta = tf.compat.v1.MetaGraphDef()
    meta.ParseFromString(metagraph)
    names = [n for n in meta.collection_def["initial_state"].node_list.value if ATTENTION_STATE in n]
    if not names:
        return 0
    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.train.import_meta_graph(meta)
        width = graph.get_tensor_by_name(names[-1]).shape[-1]
    return int(width) // layer_sizes(weights)[0]


def load(path):
    """(config, weights, description) of a ``.mag`` file, for an installed plugin's config."""
    from seqgen import plugins

    bundle = read_proto(path)
    config_id = bundle.generator_details.id
    if config_id not in plugins.configs():
        raise SeqgenError(f"Magenta bundle {path} is for generator {config_id!r}, which no installed seqgen "
                          f"plugin provides (known configs: {', '.join(sorted(plugins.configs())) or 'none'})")
    config = plugins.get_config(config_id)
    weights = _checkpoint_weights(bundle.checkpoint_file[0], path)
    if not weights or not layer_sizes(weights):
        raise SeqgenError(f"{path} holds no events-RNN weights; it is not a Drums RNN style bundle")
    if not any("attention_cell_wrapper/" in name for name in weights):
        attn_length = 0
    elif bundle.metagraph_file:
        attn_length = _attn_length(bundle.metagraph_file, weights)
    else:  # no metagraph to read it from: the config's own attn_length
        attn_length = config.hparams.attn_length
    hparams = attrs.evolve(
        config.hparams, rnn_layer_sizes=tuple(layer_sizes(weights)), attn_length=attn_length,
        residual_connections=any("input_projection_wrapper/" in name for name in weights))
    description = bundle.bundle_details.description or bundle.generator_details.description
    return attrs.evolve(config, hparams=hparams), weights, description
