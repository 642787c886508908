"""What seqgen's Keras networks share: weights created and looked up by name, and position features.

A :class:`NamedWeightsNetwork` creates one variable per entry of ``shapes`` (name -> shape), in that order,
with ``initializer(name, shape)``; ``variables_by_name()`` is what checkpoints, bundles and the NumPy
steppers key weights by. Imports TensorFlow.

Inside :func:`low_rank_adapters`, a network is built with its weights frozen and a low-rank adapter
(LoRA, Hu et al. 2021) beside each named kernel: ``compute_weights()`` gives ``W + A @ B``, with ``A``
[in, rank] random and ``B`` [rank, out] zero, so the network starts as it was and only ``A`` and ``B`` train.
"""

import contextlib

import keras
import tensorflow as tf

_adapters = {"names": (), "rank": 0}


@contextlib.contextmanager
def low_rank_adapters(names, rank: int):
    """Networks built inside get adapters of ``rank`` on the weights ``names``, and only those train."""
    previous = dict(_adapters)
    _adapters.update(names=tuple(names), rank=int(rank))
    try:
        yield
    finally:
        _adapters.update(previous)


class NamedWeightsNetwork(keras.Model):
    """Class indices [batch, time] in, logits [batch, time, num_classes] out; weights by name."""

    def __init__(self, config, shapes: dict, initializer, **kwargs):
        super().__init__(**kwargs)
        self.config = config
        self.hparams = config.hparams
        self.names = list(shapes)
        self.named_variables = [
            # Not autocast by Keras: the networks cast (compute_weights), and keep some math float32.
            self.add_weight(
                shape=shape,
                initializer=initializer(name, shape),
                name=f"v{index}_" + name.split("/")[-1],
                autocast=False,
            )
            for index, (name, shape) in enumerate(shapes.items())
        ]
        #: ``{name: (A, B)}`` of the adapted weights (empty outside :func:`low_rank_adapters`).
        self.adapters = {}
        for index, name in enumerate(_adapters["names"]):
            rows, columns = shapes[name]
            rank = _adapters["rank"]
            self.adapters[name] = (
                self.add_weight(
                    shape=(rows, rank),
                    initializer=keras.initializers.RandomNormal(stddev=rows**-0.5),
                    name=f"a{index}_" + name.split("/")[-1],
                    autocast=False,
                ),
                self.add_weight(
                    shape=(rank, columns), initializer="zeros", name=f"b{index}_" + name.split("/")[-1], autocast=False
                ),
            )
        if self.adapters:
            for variable in self.named_variables:
                variable.trainable = False

    def variables_by_name(self) -> dict:
        return dict(zip(self.names, self.named_variables))

    def compute_weights(self) -> dict:
        """The weights by name in the network's compute dtype: float32, or bfloat16 / float16 under a
        mixed-precision dtype policy (the variables stay float32; gradients flow back through the cast);
        an adapted weight with its adapter added."""
        weights = {}
        for name, variable in self.variables_by_name().items():
            if name in self.adapters:
                variable = variable + tf.matmul(*self.adapters[name])
            weights[name] = tf.cast(variable, self.compute_dtype)
        return weights

    def _positions(self, classes):
        """Position features [T, P] in the compute dtype: a constant when T is known while tracing (as under XLA)."""
        encoding = self.config.encoding
        if classes.shape[1] is not None:
            return tf.constant(encoding.position_features(classes.shape[1]), self.compute_dtype)
        positions = tf.numpy_function(
            lambda n: encoding.position_features(int(n)), [tf.shape(classes)[1]], tf.float32, stateful=False
        )
        positions.set_shape([None, encoding.num_position_features])
        return tf.cast(positions, self.compute_dtype)
