"""``transformer``: a decoder-only Transformer with Music Transformer's relative attention.

Class indices [B, T] in, logits [B, T, C] out. The input at step t is a learned embedding of the class
plus a linear map of the encoding's position features of step t (drum_kit's binary step counters), then
``num_layers`` pre-layer-norm blocks (causal self-attention with learned relative-position embeddings
per layer and head, distances clipped at ``max_relative_distance``; a ReLU or GELU feed-forward layer),
a final layer norm and a dense layer to the logits.

The Keras network is in :mod:`.network` (imports TensorFlow), the NumPy stepper with its key/value cache
in :mod:`.inference`. Importing this module imports neither TensorFlow nor the network.
"""

import math

import attrs

from seqgen.errors import SeqgenError
from seqgen.family import ModelFamily
from seqgen.task import PROMPTED_NEXT_EVENT
from seqgen.hparams import HParams, architecture, non_negative, positive, precision

ACTIVATIONS = ("relu", "gelu")


def _dropout_rate(instance, attribute, value):
    if not 0.0 <= value < 1.0:
        raise SeqgenError(f"hparam {attribute.name} must be in [0, 1), got {value}")


def _activation(instance, attribute, value):
    if value not in ACTIVATIONS:
        raise SeqgenError(f"hparam {attribute.name} must be one of {', '.join(ACTIVATIONS)}, got {value!r}")


@attrs.frozen
class TransformerHParams(HParams):
    """The transformer family's hyperparameters; the defaults are the drum_kit transformer's."""

    # Training hparams shared by every family, with this family's defaults.
    batch_size: int = attrs.field(default=64, validator=positive)
    clip_norm: float = attrs.field(default=1.0, converter=float, validator=positive)
    learning_rate: float = attrs.field(default=0.001, converter=float, validator=positive)
    # The fastest of the device's precisions: the same loss curve in mixed_bfloat16 (docs/benchmarks.md).
    precision: str = attrs.field(default="auto", validator=precision)

    num_layers: int = architecture(default=4, validator=positive)
    d_model: int = architecture(default=128, validator=positive)
    num_heads: int = architecture(default=4, validator=positive)
    d_ff: int = architecture(default=512, validator=positive)
    # Relative distances beyond this share the last relative embedding (Shaw et al.'s clipping).
    max_relative_distance: int = architecture(default=256, validator=non_negative)
    activation: str = architecture(default="relu", validator=_activation)
    # Dropout rate on the embeddings and on each sublayer's output (before the residual sum).
    dropout: float = attrs.field(default=0.1, converter=float, validator=_dropout_rate)
    # Dropout rate on the attention weights. Off by default: T x T per head, it cost 30% of a training step,
    # and on the Groove windows validation perplexity at step 150 was the same without it (5.12 vs 5.09).
    attention_dropout: float = attrs.field(default=0.0, converter=float, validator=_dropout_rate)
    # Learning rate rises linearly to learning_rate over this many steps, then decays as 1 / sqrt(step).
    warmup_steps: int = attrs.field(default=200, validator=non_negative)
    # Take the config's controls (seqgen.controls) as prompt tokens; with control_every_step, a second
    # embedding of the control tokens read so far is also added to every token's input (so each step sees
    # the controls directly, not only through attention); and learn to fill in the middle.
    controls: bool = architecture(default=False)
    control_every_step: bool = architecture(default=False)
    infill: bool = architecture(default=False)
    # Training: the chance that a track's controls are all unset (else each is, at this chance); the share
    # of tracks read as fill-in-the-middle streams (seqgen.prompt). With uniform_control_sets, each track
    # keeps k of its controls instead, k drawn uniformly from 0 to their number and the k at random, so a
    # control set alone (as a user sets one) trains as often as every other number of them
    # (control_dropout is then unused; at 0.3 a lone control trains on 1.3% of the tracks).
    control_dropout: float = attrs.field(default=0.3, converter=float, validator=_dropout_rate)
    uniform_control_sets: bool = False
    infill_rate: float = attrs.field(default=0.5, converter=float, validator=_dropout_rate)

    def __attrs_post_init__(self):
        if self.d_model % self.num_heads:
            raise SeqgenError(f"hparam d_model ({self.d_model}) must be divisible by num_heads ({self.num_heads})")

    @property
    def head_size(self) -> int:
        return self.d_model // self.num_heads


def learning_rate_at(hparams: TransformerHParams, step) -> float:
    """The learning rate of optimizer step ``step`` (counting from 0): linear warm-up over the first
    ``warmup_steps`` steps to ``learning_rate``, then ``learning_rate * sqrt(warmup_steps / step)``."""
    warmup = hparams.warmup_steps
    step = float(step) + 1.0
    if not warmup:
        return hparams.learning_rate
    return hparams.learning_rate * min(step / warmup, math.sqrt(warmup / step))


def num_tokens(config) -> int:
    """The rows of the class embedding: the events' classes and the prompt tokens (seqgen.prompt)."""
    from seqgen.prompt import Prompt

    return Prompt.of(config).num_tokens


class TransformerFamily(ModelFamily):
    name = "transformer"
    hparams_class = TransformerHParams
    task = PROMPTED_NEXT_EVENT

    def takes_controls(self, config) -> bool:
        return bool(config.hparams.controls and config.controls)

    def infills(self, config) -> bool:
        return bool(config.hparams.infill)

    def build(self, config):
        from seqgen.families.transformer import network

        return network.build_model(config)

    def variable_shapes(self, config):
        from seqgen.families.transformer.inference import variable_shapes

        return variable_shapes(config.encoding, config.hparams, num_tokens(config))

    def random_weights(self, config, seed=0):
        from seqgen.families.transformer.inference import random_weights

        return random_weights(config, seed)

    def stepper(self, config, weights):
        from seqgen.families.transformer.inference import TransformerStepper

        return TransformerStepper(weights, config.encoding, config.hparams, num_tokens(config))

    def learning_rate(self, hparams):
        """What the training loop gives ``keras.optimizers.Adam(learning_rate=...)``: a Keras schedule
        computing :func:`learning_rate_at` from the optimizer's step (imports TensorFlow)."""
        from seqgen.families.transformer import network

        return network.WarmupSchedule(hparams.learning_rate, hparams.warmup_steps)

    def adapted_weights(self, config):
        """Every layer's attention (query, key, value, output) and feed-forward kernels."""
        parts = [f"attention/{part}/kernel" for part in ("query", "key", "value", "output")]
        parts += ["ffn/hidden/kernel", "ffn/output/kernel"]
        return tuple(f"layer_{k}/{part}" for k in range(config.hparams.num_layers) for part in parts)

    def activation_values(self, hparams, steps: int = 512) -> int:
        """Values per (track, step) in the units of ``seqgen.training.MICRO_BATCH_VALUES``, for tracks of
        ``steps`` steps (drum tracks are cut at 512).

        Backward keeps, per layer, num_heads x steps attention weights (three times that with attention
        dropout: the softmax output, the mask and the dropped weights) plus about 12 x d_model + 3 x d_ff
        floats. The shared unit is about 80 bytes (the events RNN: 3 slices of 43 tracks x 511 steps x 768
        peaked at 2.1 GB). Measured at the defaults on 64 tracks of 512 steps: slices of 32 (what this gives,
        1,024 values) peak at 2.45 GB, 16 at 1.75 GB, the whole batch at 3.9-4.1 GB; with attention_dropout
        (1,843 values: slices of 16) 2.1-2.2 GB, 22 at 2.55 GB, 32 at 3.25 GB.
        """
        weights = (3 if hparams.attention_dropout else 1) * hparams.num_heads * steps
        floats = hparams.num_layers * (weights + 12 * hparams.d_model + 3 * hparams.d_ff)
        return max(1, floats * 4 // _BYTES_PER_VALUE)


#: Bytes of activations per value of ``seqgen.training.MICRO_BATCH_VALUES`` (calibrated on the events RNN).
_BYTES_PER_VALUE = 80
