"""Drum encodings: a drum event is a frozenset of MIDI pitches sounding at one step.

Pitches are grouped into drum types; the class of an event has bit k set when any pitch of type k
sounds (Magenta's MultiDrumOneHotEncoding). Decoding sounds the first pitch of each type.
"""

import numpy as np

from seqgen.encoding import Encoding

#: Magenta's nine drum types, each a list of General MIDI pitches; the first one is used for decoding.
DRUM_KIT_PITCHES = (
    (36, 35),  # kick
    (38, 27, 28, 31, 32, 33, 34, 37, 39, 40, 56, 65, 66, 75, 85),  # snare
    (42, 44, 54, 68, 69, 70, 71, 73, 78, 80, 22),  # closed hi-hat
    (46, 67, 72, 74, 79, 81, 26),  # open hi-hat
    (45, 29, 41, 43, 61, 64, 84),  # low tom
    (48, 47, 60, 63, 77, 86, 87),  # mid tom
    (50, 30, 62, 76, 83),  # high tom
    (49, 52, 55, 57, 58),  # crash
    (51, 53, 59, 82),  # ride
)
#: drum_kit's instruments as infilling names them (``seqgen infill --instruments``).
DRUM_KIT_PARTS = ("kick", "snare", "hihat_closed", "hihat_open", "tom_low", "tom_mid", "tom_high", "crash", "ride")
DRUM_KIT_NAMES = ("kick", "snare", "closed hi-hat", "open hi-hat", "low tom", "mid tom", "high tom", "crash", "ride")

#: one_drum: every pitch is the same drum; hand clap (39) when decoding.
ONE_DRUM_PITCHES = ((39,) + tuple(range(0, 39)) + tuple(range(40, 128)),)


class DrumEncoding(Encoding):
    """Multi-drum one-hot encoding, optionally followed by binary step counters.

    Counter bit ``i`` at step ``t`` is +1 when bit ``i`` of ``t + 1`` is set and -1 otherwise (the metric
    position of the next event, as Magenta's LookbackEventSequenceEncoderDecoder).
    """

    def __init__(self, drum_type_pitches=DRUM_KIT_PITCHES, binary_counter_bits=0):
        self.drum_type_pitches = tuple(tuple(p) for p in drum_type_pitches)
        self.num_position_features = binary_counter_bits
        self.parts = DRUM_KIT_PARTS if self.drum_type_pitches == DRUM_KIT_PITCHES else ()
        self._type_of_pitch = {}
        for drum_type, pitches in enumerate(self.drum_type_pitches):
            for pitch in pitches:
                self._type_of_pitch.setdefault(pitch, drum_type)

    @property
    def num_classes(self) -> int:
        return 2 ** len(self.drum_type_pitches)

    @property
    def no_event(self):
        return frozenset()

    def drum_type(self, pitch: int):
        """The drum type index of a pitch, or None for a pitch outside the kit (ignored)."""
        return self._type_of_pitch.get(pitch)

    def event_to_class(self, event) -> int:
        index = 0
        for pitch in event:
            drum_type = self._type_of_pitch.get(pitch)
            if drum_type is not None:
                index |= 1 << drum_type
        return index

    def class_to_event(self, index: int):
        return frozenset(pitches[0] for k, pitches in enumerate(self.drum_type_pitches) if index >> k & 1)

    def agreeing_classes(self, index: int, regenerate) -> np.ndarray:
        """The classes whose bits equal ``index``'s on every instrument not in ``regenerate``."""
        free = sum(1 << self.parts.index(name) for name in set(regenerate))  # a name given twice counts once
        kept = (self.num_classes - 1) & ~free
        return ((np.arange(self.num_classes) ^ index) & kept) == 0

    def class_parts(self) -> np.ndarray:
        """Class ``c`` sounds instrument ``k`` when bit ``k`` of ``c`` is set."""
        return (np.arange(self.num_classes)[:, None] >> np.arange(len(self.parts))[None] & 1).astype(bool)

    def position_features(self, num_steps: int) -> np.ndarray:
        positions = np.arange(1, num_steps + 1)[:, None]
        bits = (positions >> np.arange(self.num_position_features)[None, :]) & 1
        return np.where(bits == 1, 1.0, -1.0).astype(np.float32)
