"""Reading Magenta's events RNN from a ``.mag`` bundle: the hparams its weights and TF1 metagraph imply.

Magenta stores no hparams; they follow from the variable shapes (layer sizes, residual input projections)
and from the metagraph's initial-state shapes (attn_length). NumPy and protobuf only.
"""

import attrs

from seqgen import v1_checkpoint
from seqgen.errors import SeqgenError
from seqgen.families.events_rnn.inference import layer_sizes

ATTENTION_STATE = "AttentionCellWrapperZeroState/"


def attn_length(metagraph: bytes, size: int, path):
    """attn_length from the attention layer's initial-state shapes (its last state is L x H wide).

    The width is the static shape of the last ``AttentionCellWrapperZeroState/`` tensor in the
    ``initial_state`` collection: its ``_output_shapes`` attr, else the zeros constant (or the constant
    shape it is filled to). None when the metagraph does not tell; the caller falls back.
    """
    try:
        graph = v1_checkpoint.MetaGraph(metagraph)
    except v1_checkpoint.CheckpointError as error:
        raise SeqgenError(
            f"the metagraph inside {path} is truncated or corrupted: {error}; download or export the bundle again"
        ) from None
    names = [n for n in graph.collection("initial_state") if ATTENTION_STATE in n]
    if not names:
        return None
    shape = graph.static_shape(names[-1])
    if not shape or shape[-1] < 0:
        return None
    if shape[-1] == 0 or shape[-1] % size:
        raise SeqgenError(
            f"the attention state in {path} is {shape[-1]} wide, not a multiple of the first layer's "
            f"{size} units; the bundle is corrupted: download or export it again"
        )
    return shape[-1] // size


def hparams_from_weights(weights: dict, hparams, metagraph, path):
    """``hparams`` with the architecture that Magenta ``weights`` (and their ``metagraph``, or None) imply."""
    sizes = layer_sizes(weights)
    if not sizes:
        raise SeqgenError(f"{path} holds no events-RNN weights; it is not a Drums RNN style bundle")
    attention = None
    if not any("attention_cell_wrapper/" in name for name in weights):
        attention = 0
    elif metagraph:
        attention = attn_length(metagraph, sizes[0], path)
    if attention is None:
        # No metagraph, or none that states the attention state's width (attn_length is in no weight
        # shape): the config's own attn_length, which is what Magenta would build the graph with.
        attention = hparams.attn_length
    return attrs.evolve(
        hparams,
        rnn_layer_sizes=tuple(sizes),
        attn_length=attention,
        residual_connections=any("input_projection_wrapper/" in name for name in weights),
    )
