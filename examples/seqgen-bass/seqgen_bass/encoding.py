"""Bass events and their classes.

An event is a MIDI pitch (a new note starts), ``NOTE_OFF`` (the sounding note stops) or ``NO_EVENT``
(whatever sounds goes on), as Magenta's melodies. Pitches span E1 to B3.
The model also sees where in the bar each step falls: binary step counters, as the drums plugin's.
"""

import numpy as np

from seqgen.plugin import Encoding

NO_EVENT = -2
NOTE_OFF = -1
MIN_PITCH, MAX_PITCH = 28, 59


class BassEncoding(Encoding):
    """Class 0 is NO_EVENT, class 1 NOTE_OFF, then one class per pitch from MIN_PITCH up."""

    num_position_features = 5  # counts 16th notes through two 4/4 bars

    @property
    def num_classes(self) -> int:
        return 2 + MAX_PITCH - MIN_PITCH + 1

    @property
    def no_event(self):
        return NO_EVENT

    def event_to_class(self, event) -> int:
        if event in (NO_EVENT, NOTE_OFF):
            return event + 2
        if not MIN_PITCH <= event <= MAX_PITCH:
            raise ValueError(f"bass pitch {event} is outside {MIN_PITCH}-{MAX_PITCH}")
        return 2 + event - MIN_PITCH

    def class_to_event(self, index: int):
        return index - 2 if index < 2 else MIN_PITCH + index - 2

    def position_features(self, num_steps: int) -> np.ndarray:
        """Bit ``i`` of step ``t + 1`` as +1 or -1: the metric position of the next event."""
        bits = (np.arange(1, num_steps + 1)[:, None] >> np.arange(self.num_position_features)) & 1
        return np.where(bits == 1, 1.0, -1.0).astype(np.float32)
