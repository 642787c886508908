"""Encoding: between a plugin's events and the integer classes and input vectors a model sees.

Every event maps to one class in ``range(num_classes)``. The model's input at step ``t`` is the one-hot
vector of the class of event ``t`` followed by ``num_position_features`` features that depend only on
``t`` (Magenta's binary step counters, for example). This shape lets records store class indices alone
and lets the network treat the one-hot part as a table lookup.
"""

import abc

import numpy as np


class Encoding(abc.ABC):
    """Maps events to classes and builds model inputs.

    A subclass must provide four members (each may be a plain class attribute or a property):

    - ``num_classes``: how many classes there are (the size of the model's softmax);
    - ``no_event``: the event that means "nothing new happens at this step" (a rest, a held note); its
      class is ``no_event_class``, which Magenta's metrics count apart;
    - ``event_to_class(event) -> int``: the class of one event, in ``range(num_classes)``; raise
      :class:`seqgen.errors.SeqgenError` for an event the encoding cannot hold;
    - ``class_to_event(index)``: the event of a class, so that ``class_to_event(event_to_class(e)) == e``.

    Events may be any hashable Python values the plugin's :class:`seqgen.tracks.Tracks` makes (ints,
    frozensets of pitches, ...). Optionally, ``num_position_features`` and :meth:`position_features` add
    per-step inputs (Magenta's binary step counters), and :meth:`may_precede` says which events may come
    right before an event whose meaning depends on the one before it (for infilling); everything else is
    derived from these.
    """

    #: How many features :meth:`position_features` gives per step (0: none).
    num_position_features = 0
    #: Names of the independent parts of an event (e.g. the instruments of a drum step) that infilling
    #: may regenerate while keeping the others; empty when events have no such parts.
    parts = ()

    @property
    @abc.abstractmethod
    def num_classes(self) -> int:
        """Number of event classes (the softmax size)."""

    @property
    @abc.abstractmethod
    def no_event(self):
        """The event that means 'nothing happens at this step'."""

    @abc.abstractmethod
    def event_to_class(self, event) -> int:
        """The class index of one event."""

    @abc.abstractmethod
    def class_to_event(self, index: int):
        """The event a class index stands for."""

    def agreeing_classes(self, index: int, regenerate) -> np.ndarray:
        """Bool [num_classes]: the classes equal to class ``index`` on every part not named in
        ``regenerate`` (what a step may become when only those parts are regenerated)."""
        raise NotImplementedError(f"{type(self).__name__} has no parts")

    def class_parts(self) -> np.ndarray:
        """Bool [num_classes, len(parts)]: the parts each class sounds (a drum step's drums), which
        :mod:`seqgen.calibration` matches to the data's. An encoding with parts provides it."""
        raise NotImplementedError(f"{type(self).__name__} does not say which parts its classes sound")

    def may_precede(self, index: int) -> np.ndarray:
        """Bool [num_classes]: the classes that may come right before an event of class ``index`` without changing
        what it means (a "hold the note" event needs a note before it, not a rest). Infilling draws only these
        right before a kept event and between the steps it regenerates (:func:`seqgen.infill.check_gap`).
        Every class by default."""
        return np.ones(self.num_classes, bool)

    @property
    def input_size(self) -> int:
        return self.num_classes + self.num_position_features

    @property
    def no_event_class(self) -> int:
        return self.event_to_class(self.no_event)

    def position_features(self, num_steps: int) -> np.ndarray:
        """Float32 array [num_steps, num_position_features]; row t goes with the input of step t."""
        return np.zeros((num_steps, 0), np.float32)

    def events_to_classes(self, events) -> np.ndarray:
        return np.fromiter((self.event_to_class(e) for e in events), np.int64, len(events))

    def inputs_from_classes(self, classes) -> np.ndarray:
        """Dense inputs [len(classes), input_size] for a sequence of classes."""
        classes = np.asarray(classes, np.int64)
        one_hot = np.zeros((len(classes), self.num_classes), np.float32)
        one_hot[np.arange(len(classes)), classes] = 1.0
        return np.concatenate([one_hot, self.position_features(len(classes))], axis=1)

    def input_for_step(self, events, position: int) -> np.ndarray:
        """The input vector for ``events[position]`` (used one step at a time during generation)."""
        vector = np.zeros(self.input_size, np.float32)
        vector[self.event_to_class(events[position])] = 1.0
        vector[self.num_classes :] = self.position_features(position + 1)[position]
        return vector

    def encode(self, events):
        """Magenta's training pair for a whole sequence: inputs for events[:-1], labels of events[1:]."""
        classes = self.events_to_classes(events)
        return self.inputs_from_classes(classes[:-1]), classes[1:]
