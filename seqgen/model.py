"""Model: builds the Keras network for a config's hparams."""

import abc


class Model(abc.ABC):
    """Builds a trainable network from a :class:`seqgen.config.Config`."""

    def __init__(self, config):
        self.config = config

    @abc.abstractmethod
    def build(self):
        """The Keras model: class indices [batch, time] in, logits [batch, time, num_classes] out."""
