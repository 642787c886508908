"""Model families: the contract between a network architecture and the rest of seqgen.

A *family* (``events_rnn``, ``transformer``, or one a plugin brings) owns four things:

- its hparams class: a frozen attrs subclass of :class:`seqgen.hparams.HParams` (which carries the
  training hparams every family has: batch_size, learning_rate, clip_norm);
- :meth:`ModelFamily.build`: the Keras network for the shared training loop, class indices [B, T] in,
  logits [B, T, C] out, with ``network.variables_by_name()`` -> {name: tf.Variable};
- its weights as a dict of float32 NumPy arrays keyed by variable name (what checkpoints, bundles and
  ``.mag`` import hold);
- :meth:`ModelFamily.stepper`: NumPy inference one step at a time (no TensorFlow), used by the generic
  generator for sampling, beam search and scoring. A family without a fast stepper inherits
  :class:`PrefixStepper`, which runs the Keras network over the whole prefix each step.

A family whose weights are counted or solved rather than trained by gradient (an n-gram model, a
closed-form fit) sets ``trained_by_gradient = False`` and implements :meth:`ModelFamily.initial_weights`
and :meth:`ModelFamily.fit` instead of ``build``: ``seqgen train`` then fits it with the same run dir,
checkpoints, summaries and resuming (see :mod:`seqgen.fitting`).

Two optional parts let a family learn and do something other than predicting the next event:

- ``task``: a :class:`seqgen.task.Task`, what the shared training loop trains the network on (records,
  batches, loss, metrics); the default is next-event prediction;
- ``generative = False`` with :meth:`ModelFamily.operations`: a family whose models do not generate
  (no stepper) offers its own operations instead, which a loaded :class:`seqgen.model.Model` exposes as
  methods (the drums plugin's ``groove`` family: ``model.humanize(track)``).

Families are registered with the ``register_models(register)`` hook.
"""

import abc

import numpy as np

from seqgen.task import NEXT_EVENT


class Stepper(abc.ABC):
    """Runs a trained network B sequences at a time, one step after another (NumPy, no TensorFlow).

    The generic :class:`seqgen.generator.Generator` drives it for sampling, beam search and scoring:
    it calls :meth:`initial_state` once, then :meth:`step` with the class of event 0, 1, 2, ... of every
    sequence; the logits a step returns predict the *next* event. Beam search keeps, drops and copies
    sequences between steps with :meth:`reorder`. The state is whatever the stepper needs (arrays, a
    tuple of arrays, a key/value cache, or None for a model without memory); the generator never looks
    inside it.
    """

    @abc.abstractmethod
    def initial_state(self, batch: int):
        """The state before the first step, for ``batch`` sequences."""

    @abc.abstractmethod
    def step(self, classes, position: int, state) -> tuple:
        """Feed one class to every sequence and predict the next.

        Args:
            classes (numpy.ndarray): int array [B], the class of the event at ``position`` in each sequence.
            position: how many steps were fed since :meth:`initial_state` (0 for the first event), for
                position features or positional encodings.
            state (object): what the previous call (or :meth:`initial_state`) returned.

        Returns:
            ``(logits, new_state)``: float32 logits [B, num_classes] of the event at ``position + 1``
                (unnormalized log-probabilities; the generator applies the temperature and the softmax),
                and the state after this step. The old state is not used again, so it may be updated in
                place.
        """

    @abc.abstractmethod
    def reorder(self, state, rows):
        """The state of the sequences ``rows`` (an int index array into the batch; rows may repeat and the
        result may be larger or smaller than the batch), e.g. to keep the best beams or branch one into
        several. Return a new state whose sequence ``i`` is the old sequence ``rows[i]``."""

    def feed(self, classes, positions, state):
        """Feed ``classes[:, t]`` (int array [B, T]) at ``positions[t]`` for t = 0.. in turn, as T calls of
        :meth:`step`: ``(logits [B, T, num_classes] float32, new state)``. A family may do it in one pass."""
        classes = np.asarray(classes, np.int64)
        out = None
        for t, position in enumerate(positions):
            step_logits, state = self.step(classes[:, t], int(position), state)
            if out is None:
                out = np.empty(classes.shape + step_logits.shape[-1:], np.float32)
            out[:, t] = step_logits
        if out is None:
            return np.zeros(classes.shape + (0,), np.float32), state
        return out, state

    def logits(self, classes) -> np.ndarray:
        """Logits [B, T, C] of class sequences [B, T] from the initial state (for scoring)."""
        classes = np.asarray(classes, np.int64)
        return self.feed(classes, range(classes.shape[1]), self.initial_state(len(classes)))[0]


class PrefixStepper(Stepper):
    """The slow, always-correct fallback: the state is the prefix of classes so far, and each step runs the
    family's Keras network on the whole prefix (this imports TensorFlow)."""

    def __init__(self, family, config, weights: dict):
        self.network = family.build(config)
        family.load_weights(self.network, weights)

    def initial_state(self, batch):
        return np.zeros((batch, 0), np.int64)

    def step(self, classes, position, state):
        state = np.concatenate([state, np.asarray(classes, np.int64)[:, None]], axis=1)
        logits = np.asarray(self.network(state, training=False))[:, -1]
        return logits.astype(np.float32), state

    def reorder(self, state, rows):
        return state[rows]

    def logits(self, classes) -> np.ndarray:
        return np.asarray(self.network(np.asarray(classes, np.int64), training=False), np.float32)


class ModelFamily(abc.ABC):
    """One kind of network. Subclasses set ``name`` and ``hparams_class`` and implement ``build``."""

    #: The family's registered name, e.g. "events_rnn"; configs refer to it as ``Config.model``.
    name: str = ""
    #: The frozen attrs HParams subclass of this family (its defaults are the family's defaults).
    hparams_class = None
    #: What the shared training loop trains the network on (a :class:`seqgen.task.Task`).
    task = NEXT_EVENT
    #: Whether models of this family generate and score tracks through a stepper.
    generative = True
    #: Whether ``seqgen train`` trains this family's Keras network (:meth:`build`) by gradient descent in the
    #: shared loop; False: it calls :meth:`fit` on batches of tracks instead (counted or solved weights).
    trained_by_gradient = True

    def build(self, config):
        """A built Keras model for ``config`` (its encoding and ``config.hparams``, an instance of
        ``hparams_class``): ``model(classes [B, T] int, training=bool) -> logits [B, T, C]``, with
        ``model.variables_by_name() -> {name: variable}`` in a fixed order. Imports TensorFlow.

        Every family trained by gradient implements it; a fitted family (``trained_by_gradient = False``)
        need not."""
        from seqgen.errors import SeqgenError

        raise SeqgenError(
            f"the {self.name} model family has no Keras network (its weights are fitted, not trained by gradient)"
        )

    def initial_weights(self, config) -> dict:
        """A fitted family's weights before it has seen any track (e.g. zero counts), as float32 arrays
        with :meth:`variable_shapes`. Only called when ``trained_by_gradient`` is False."""
        raise NotImplementedError(f"the {self.name} family sets trained_by_gradient = False but has no initial_weights")

    def fit(self, config, weights: dict, tracks: list) -> dict:
        """A fitted family's weights after also learning from ``tracks``: a list of int64 class arrays,
        one per track, as ``seqgen create_dataset`` wrote them (``config.encoding.events_to_classes`` of
        the extracted events). ``seqgen train`` calls it once per step with the next
        ``hparams.batch_size`` tracks in record order, starting from :meth:`initial_weights` or from the
        latest checkpoint's weights, so weights that are sums of counts resume exactly. The returned arrays
        keep :meth:`variable_shapes`; ``weights`` may be changed in place and returned. Only called when
        ``trained_by_gradient`` is False."""
        raise NotImplementedError(f"the {self.name} family sets trained_by_gradient = False but has no fit")

    def variable_shapes(self, config) -> dict:
        """``{name: shape}`` of the weights of ``config``'s network, in the order :meth:`build` creates them:
        what checkpoints and bundles are checked and read against. Override it without TensorFlow; this
        default builds the network to learn them (slow, imports TensorFlow)."""
        network = self.build(config)
        return {name: tuple(var.shape) for name, var in network.variables_by_name().items()}

    def random_weights(self, config, seed=0) -> dict:
        """Small random weights of :meth:`variable_shapes` (for tests and benchmarks, as
        :func:`seqgen.testing.random_model` makes them): normal around 0, layer-norm scales (``gamma``) around 1.
        Families override it with what suits their networks."""
        rng = np.random.default_rng(seed)
        return {
            name: (rng.normal(0.0, 0.1, shape) + name.endswith("gamma")).astype(np.float32)
            for name, shape in self.variable_shapes(config).items()
        }

    def weights(self, network) -> dict:
        """The network's weights as float32 NumPy arrays keyed by variable name."""
        return {name: np.asarray(var.numpy(), np.float32) for name, var in network.variables_by_name().items()}

    def load_weights(self, network, weights: dict) -> None:
        """Set the network's variables from a weights dict; names and shapes must match exactly."""
        from seqgen.errors import SeqgenError

        expected = network.variables_by_name()
        missing = sorted(set(expected) - set(weights))
        extra = sorted(set(weights) - set(expected))
        if missing or extra:
            raise SeqgenError(
                f"the weights do not fit this {self.name} model's hparams: missing {missing[:3]}, "
                f"unexpected {extra[:3]}"
            )
        for name, var in expected.items():
            value = np.asarray(weights[name], np.float32)
            if tuple(value.shape) != tuple(var.shape):
                raise SeqgenError(
                    f"weight {name} has shape {list(value.shape)}, the {self.name} model expects {list(var.shape)}"
                )
            var.assign(value)

    def stepper(self, config, weights: dict) -> Stepper:
        """NumPy inference for ``config`` from ``weights``; override with a fast one (without TensorFlow)."""
        if not self.generative:
            from seqgen.errors import SeqgenError

            offers = ", ".join(sorted(self.operations())) or "nothing else"
            raise SeqgenError(f"a {self.name} model does not generate or score tracks; it offers: {offers}")
        return PrefixStepper(self, config, weights)

    def hparams_from_weights(self, weights: dict, hparams, metagraph=None, source="the weights"):
        """``hparams`` with the architecture that ``weights`` imply, for files that store no hparams (Magenta's
        ``.mag`` bundles: ``metagraph`` is their TF1 MetaGraphDef bytes, or None). ``source`` names the file
        in errors. A family that reads no such files keeps this default, which refuses."""
        from seqgen.errors import SeqgenError

        raise SeqgenError(
            f"{source} holds weights without hparams, which the {self.name} model family cannot "
            f"read; give a seqgen bundle"
        )

    def operations(self) -> dict:
        """``{name: function(model, *args, **kwargs)}``: what a loaded model of this family offers besides
        ``generate`` and ``score``; each is available as ``model.<name>(...)``."""
        return {}

    def takes_controls(self, config) -> bool:
        """Whether models of ``config`` are steered by its controls (read as prompt tokens, see
        :mod:`seqgen.prompt`; the network then embeds token ids past the classes, and its ``call`` takes
        ``steps``). A family without controls refuses them."""
        return False

    def infills(self, config) -> bool:
        """Whether models of ``config`` fill in the middle (read fill-in-the-middle streams, see
        :mod:`seqgen.prompt`). Other generative families infill by sampling left to right and keeping the
        candidates under which the kept steps after the gap are most likely."""
        return False

    def learning_rate(self, hparams):
        """What the shared loop gives ``keras.optimizers.Adam(learning_rate=...)``: a number or a Keras
        schedule of the step (e.g. a warm-up); by default the constant ``hparams.learning_rate``."""
        return hparams.learning_rate

    def adapted_weights(self, config) -> tuple:
        """The names of the 2-D weights (kernels [in, out]) that ``seqgen adapt`` fine-tunes with low-rank
        adapters (:mod:`seqgen.adapting`): the network must read each of them through
        ``compute_weights()`` (:class:`seqgen.families.keras_network.NamedWeightsNetwork`). Empty (the
        default): models of this family cannot be adapted."""
        return ()

    def activation_values(self, hparams) -> int:
        """Roughly how many float values the training loop keeps per (track, step) for the backward pass;
        the shared loop slices batches so tracks x steps x this stays bounded (see seqgen.training)."""
        return 1024
