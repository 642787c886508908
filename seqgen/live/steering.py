"""Steering while it plays: MIDI messages mapped to the model's controls (``--cc density=1,fill=64,style=program``).

A mapping ``NAME=N`` reads control change N, ``NAME=program`` program changes and ``NAME=noteN`` note-ons of
note N. A number control follows a CC or program change across its range and holds it; a category control of
two values (a switch, such as a fill) asks for its second value on the next bar when the CC goes to 64 or more
or the note is played; any other category follows a CC across its values or a program change by number. The
controls of each bar are read when its generation starts.
"""

import threading

import attrs

from seqgen.errors import SeqgenError


@attrs.frozen
class Mapping:
    """Control ``control`` steered by control change ``number`` (kind "cc"), program changes or note ``number``."""

    control: object
    kind: str
    number: int = 0

    @property
    def switch(self) -> bool:
        return self.control.kind == "category" and len(self.control.values) == 2

    def describe(self) -> str:
        source = {"cc": f"CC {self.number}", "program": "program change", "note": f"note {self.number}"}[self.kind]
        return f"{self.control.name} from {source}"


def parse(text: str, declared) -> list:
    """The mappings ``text`` names, checked against the ``declared`` controls; a one-line SeqgenError otherwise."""
    by_name = {control.name: control for control in declared}
    mappings = []
    for part in text.split(","):
        name, equals, source = (piece.strip() for piece in part.partition("="))
        if not part.strip():
            continue
        if not equals or not name or not source:
            raise SeqgenError(
                f"--cc {text!r} is malformed at {part.strip()!r}; write NAME=CC, NAME=program or "
                f"NAME=noteN pairs separated by commas, e.g. --cc density=1,fill=64"
            )
        if name not in by_name:
            raise SeqgenError(
                f"--cc maps {name!r}, which this model has no control of; its controls are: "
                f"{', '.join(by_name) or 'none'}"
            )
        control = by_name[name]
        if source == "program":
            mappings.append(Mapping(control, "program"))
            continue
        kind, digits = ("note", source[4:]) if source.startswith("note") else ("cc", source)
        if not digits.isdigit() or int(digits) > 127:
            raise SeqgenError(
                f"--cc {name}={source}: expected a CC number from 0 to 127, 'program' or noteN with N from 0 to 127"
            )
        mapping = Mapping(control, kind, int(digits))
        if kind == "note" and not mapping.switch:
            raise SeqgenError(
                f"--cc {name}={source}: a note can only switch a control of two values (such as a "
                f"fill); {name} takes {control.valid()}"
            )
        mappings.append(mapping)
    if not mappings:
        raise SeqgenError("--cc is empty; write NAME=CC pairs, e.g. --cc density=1,fill=64")
    return mappings


class Steering:
    """The controls of the next bar: those given at the start (``--control``), changed by mapped MIDI messages
    (:meth:`receive`, called on the MIDI input's thread)."""

    def __init__(self, controls: dict = None, mappings=()):
        self._lock = threading.Lock()
        self._held = dict(controls or {})
        self._once = {}  # asked for the next bar only (a fill)
        self.mappings = list(mappings)

    def receive(self, message, at: float = None) -> None:
        for mapping in self.mappings:
            value = self._value(mapping, message)
            if value is None:
                continue
            with self._lock:
                if mapping.switch:
                    self._once[mapping.control.name] = value
                else:
                    self._held[mapping.control.name] = value

    @staticmethod
    def _value(mapping, message):
        control, kind = mapping.control, message.type
        if mapping.kind == "cc" and kind == "control_change" and message.control == mapping.number:
            amount = message.value
        elif mapping.kind == "program" and kind == "program_change":
            if control.kind == "category":
                return control.values[message.program % len(control.values)]
            amount = message.program
        elif mapping.kind == "note" and kind == "note_on" and message.note == mapping.number and message.velocity:
            return control.values[1]
        else:
            return None
        if mapping.switch:
            return control.values[1] if amount >= 64 else None
        if control.kind == "category":
            return control.values[amount * len(control.values) // 128]
        return control.low + (control.high - control.low) * amount / 127

    def change(self, controls: dict, declared) -> None:
        """Set ``controls`` ({name: value}, checked against the ``declared`` controls; None unsets one) for the next
        bars; a control of two values (a switch) set to its second (a fill) holds for the next bar only, to its first
        it is unset."""
        from seqgen.controls import check_controls

        by_name = {control.name: control for control in declared}
        checked = check_controls(declared, controls)
        with self._lock:
            for name in controls:
                control = by_name[name]
                switch = control.kind == "category" and len(control.values) == 2
                if switch and checked.get(name) == control.values[1]:
                    self._once[name] = checked[name]
                elif name not in checked or switch:
                    self._held.pop(name, None)
                else:
                    self._held[name] = checked[name]

    def next_bar(self) -> dict:
        """The controls to generate the next bar with (a switch asked for is used once)."""
        with self._lock:
            controls = {**self._held, **self._once}
            self._once = {}
        return controls
