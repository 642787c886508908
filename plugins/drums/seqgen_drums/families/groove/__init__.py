"""The ``groove`` and ``drumify`` model families: play a drum score (GrooVAE's Humanize), and drum to a
one-voice rhythm (GrooVAE's Tap2Drum, Magenta Studio's Drumify).

Both read a whole track at once (non-causal: all of it is known) with a stack of bidirectional GRU layers
and give per step and drum, through a dense layer, what :mod:`.heads` describes:

- ``groove``: input per step the nine drum hits of the quantized score and the position in the bar
  (one-hot of 16); output the velocity and the offset from the grid of every hit, as categorical
  distributions over bins (``velocity_bins``, ``offset_bins``), from which humanize samples; or, for
  models trained without bins (the first shipped model), their means.
- ``drumify``: input per step the rhythm (a tap or not, its velocity 0-1 and its offset, doubled to
  -1..1) and the position in the bar; output whether each drum sounds, and its velocity and offset
  distributions as ``groove``'s.

Neither generates (no stepper): a loaded model offers ``model.humanize(track)`` and
``model.humanize_tracks(tracks)``, or ``model.drumify(rhythm)`` and ``model.drumify_tracks(rhythms)``,
run in NumPy without TensorFlow (:mod:`.inference`, the NumPy leaf, which also names the variables; the
Keras network for training, :mod:`.network`, imports it). The training tasks are in :mod:`.task`. Importing
this module imports neither TensorFlow nor the network.
"""

import attrs

from seqgen.errors import SeqgenError
from seqgen.family import ModelFamily
from seqgen.hparams import HParams, architecture, non_negative, positive, positive_sizes, probability

from seqgen_drums.events.groove import NUM_DRUMS, STEPS_PER_BAR
from seqgen_drums.families.groove.inference import variable_shapes
from seqgen_drums.families.groove.task import DRUMIFY_TASK, GROOVE_TASK

#: Drumify's rhythm features per step: a tap (0/1), its velocity (0-1) and its offset doubled (-1..1).
RHYTHM_WIDTH = 3


@attrs.frozen
class GrooveHParams(HParams):
    """Hyperparameters of the groove and drumify families."""

    batch_size: int = attrs.field(default=64, validator=positive)
    learning_rate: float = attrs.field(default=0.002, converter=float, validator=positive)
    #: Units of each bidirectional GRU layer, per direction.
    rnn_layer_sizes: tuple = architecture(default=(128, 128), converter=tuple, validator=positive_sizes)
    dropout_keep_prob: float = attrs.field(default=0.8, converter=float, validator=probability)
    #: Training windows, in steps (tracks are cut into windows of this many steps, every half window).
    train_window: int = attrs.field(default=128, validator=positive)
    #: Bins of the velocity and offset distributions; 0 and 0: predict means (squared error), as the
    #: first groove model (whose bundle has neither hparam).
    velocity_bins: int = architecture(default=0, validator=non_negative)
    offset_bins: int = architecture(default=0, validator=non_negative)

    def __attrs_post_init__(self):
        if (self.velocity_bins > 0) != (self.offset_bins > 0):
            raise SeqgenError(
                f"hparams velocity_bins ({self.velocity_bins}) and offset_bins ({self.offset_bins}) "
                "must both be 0 (predict means) or both positive (predict distributions)"
            )


class GrooveFamily(ModelFamily):
    name = "groove"
    hparams_class = GrooveHParams
    task = GROOVE_TASK
    generative = False
    #: Input features per step, and whether the output says which drums sound.
    num_inputs = NUM_DRUMS + STEPS_PER_BAR
    with_hits = False

    def build(self, config):
        from seqgen_drums.families.groove import network

        return network.build_model(config)

    def variable_shapes(self, config):
        return variable_shapes(self, config.hparams)

    def operations(self):
        from seqgen_drums.families.groove import inference

        return {"humanize": inference.humanize, "humanize_tracks": inference.humanize_tracks}

    def activation_values(self, hparams) -> int:
        # Per step and direction: the GRU's input projections, gates and state.
        return 2 * 8 * sum(hparams.rnn_layer_sizes)


class DrumifyFamily(GrooveFamily):
    name = "drumify"
    task = DRUMIFY_TASK
    num_inputs = RHYTHM_WIDTH + STEPS_PER_BAR
    with_hits = True

    def operations(self):
        from seqgen_drums.families.groove import inference

        return {"drumify": inference.drumify, "drumify_tracks": inference.drumify_tracks}
