"""``events_rnn``: Magenta's events RNN (LSTM layers, optional attention on layer 0), Magenta's variable names.

The Keras network is in :mod:`.network` (imports TensorFlow), the NumPy stepper in :mod:`.inference`.
"""

import attrs

from seqgen.family import ModelFamily
from seqgen.errors import SeqgenError
from seqgen.hparams import HParams, architecture, positive_sizes, probability

#: The longest attention window (Magenta's drum_kit uses 32); the window's memory grows with it.
MAX_ATTENTION_LENGTH = 4096


def _attention_length(instance, attribute, value):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ATTENTION_LENGTH:
        raise SeqgenError(
            f"hparam {attribute.name} must be a whole number from 0 to {MAX_ATTENTION_LENGTH}, got {value!r}"
        )


@attrs.frozen
class EventsRNNHParams(HParams):
    """Magenta's events-RNN hyperparameters, with the same names."""

    rnn_layer_sizes: tuple = architecture(default=(128, 128), converter=tuple, validator=positive_sizes)
    dropout_keep_prob: float = attrs.field(default=1.0, converter=float, validator=probability)
    attn_length: int = architecture(default=0, validator=_attention_length)
    residual_connections: bool = architecture(default=False)


class EventsRNNFamily(ModelFamily):
    name = "events_rnn"
    hparams_class = EventsRNNHParams

    def build(self, config):
        from seqgen.families.events_rnn import network

        return network.build_model(config)

    def variable_shapes(self, config):
        from seqgen.families.events_rnn.inference import variable_shapes

        return variable_shapes(config)

    def random_weights(self, config, seed=0):
        from seqgen.families.events_rnn.inference import random_weights

        return random_weights(config, seed)

    def stepper(self, config, weights):
        from seqgen.families.events_rnn.inference import EventsRNN

        return EventsRNN(weights, config.encoding, config.hparams)

    def activation_values(self, hparams) -> int:
        """The layer widths summed; a third of them in mixed precision, whose stacks of per-step values are
        16-bit (drum_kit's defaults then train in one slice of 128 tracks, 2.9 GB at most, 1.1x faster than 2
        slices of 64 and 1.6x faster than float32's 3 slices of 43)."""
        width = sum(hparams.rnn_layer_sizes)
        return width if hparams.precision == "float32" else max(1, width // 3)

    def hparams_from_weights(self, weights: dict, hparams, metagraph=None, source="the weights"):
        """Layer sizes and residual connections from Magenta's variable shapes, attn_length from the metagraph's
        attention state (else ``hparams``'s)."""
        from seqgen.families.events_rnn import magenta

        return magenta.hparams_from_weights(weights, hparams, metagraph, source)
