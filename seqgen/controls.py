"""Controls: named, optional inputs that steer a model (a style, a density...), declared by a config.

A :class:`Control` is a category (one of its ``values``) or a number (within ``[low, high]``, seen by a
model through the bins between its ``edges``). Every control may be unset. A config lists its controls
in ``Config.controls``; each one knows how to measure itself on a training track (``measure(events,
metadata)``, where ``metadata`` is :func:`sequence_metadata` of the NoteSequence the track came from), so
``create_dataset`` stores the values in the records and a family that takes controls
(:meth:`seqgen.family.ModelFamily.takes_controls`) learns from them.

Values travel as floats (a category's index, or the number) under :data:`seqgen.records.RECORD_PREFIX` + name in the
records, as ``{name: value}`` dicts everywhere else. No TensorFlow here.
"""

import csv
import math
import os

import attrs
import numpy as np

from seqgen.errors import SeqgenError

#: Text annotations ``key=value`` of this prefix carry a metadata CSV's columns in a NoteSequence.
METADATA_PREFIX = "seqgen:"
_MAX_LISTED = 24


@attrs.frozen
class Control:
    """One control of a config: a category with ``values``, or a number with ``edges`` (bin limits,
    the first and last being its range)."""

    name: str
    description: str = ""
    values: tuple = attrs.field(default=(), converter=tuple)
    edges: tuple = attrs.field(default=(), converter=tuple)
    #: ``measure(events, metadata) -> value or None``: the control's value on a training track.
    measure: object = attrs.field(default=None, eq=False, repr=False)
    #: Measured on each bar's events alone: a family that reads controls at every step learns it per bar
    #: (each step sees the value of its own bar); asked for once, it holds for every bar generated.
    per_bar: bool = False
    #: The classifier-free guidance a generation with this control set defaults to (None: the generator's
    #: ``DEFAULT_GUIDANCE``); with several set, the largest of theirs (``Generator.default_guidance``). A
    #: control whose strong guidance distorts what the model plays besides it asks for less.
    guidance: float | None = None
    #: Values training never drops (a category's): a track with one of them always reads it, so the control
    #: left unset never plays like them (the drums' fill=yes: an unset fill is a beat's beginning).
    kept: tuple = attrs.field(default=(), converter=tuple)

    def __attrs_post_init__(self):
        if not self.name.isidentifier():
            raise SeqgenError(f"control name {self.name!r} must be a Python identifier")
        if bool(self.values) == bool(self.edges):
            raise SeqgenError(f"control {self.name} needs either values (a category) or edges (a number)")
        if self.edges and (len(self.edges) < 2 or list(self.edges) != sorted(set(self.edges))):
            raise SeqgenError(f"control {self.name}'s edges must rise, at least two of them")
        if self.guidance is not None and not 0 <= self.guidance < float("inf"):
            raise SeqgenError(f"control {self.name}'s guidance must be a non-negative number, got {self.guidance}")
        if any(value not in self.values for value in self.kept):
            raise SeqgenError(f"control {self.name}'s kept values must be among its values {list(self.values)}")
        if self.per_bar and self.measure is None:
            raise SeqgenError(f"control {self.name} is per_bar, so it needs a measure of a bar's events")

    @property
    def kind(self) -> str:
        return "category" if self.values else "number"

    @property
    def low(self) -> float:
        return float(self.edges[0])

    @property
    def high(self) -> float:
        return float(self.edges[-1])

    @property
    def num_bins(self) -> int:
        """How many distinct values a model sees: the categories, or the bins of a number."""
        return len(self.values) or len(self.edges) - 1

    def bin(self, value) -> int:
        """The category's index, or the bin of a number (clipped to the range)."""
        if self.values:
            return self.values.index(value)
        index = int(np.searchsorted(np.asarray(self.edges[1:-1], np.float64), float(value), side="right"))
        return min(max(index, 0), self.num_bins - 1)

    def blend(self, value) -> tuple:
        """``((bin, weight), ...)``: how generation reads ``value``. A category is its index; a number
        between two bins' centres is both bins, each weighted by how near the number is to its centre
        (weights summing to 1), so a number steers smoothly instead of in steps at the bins' edges; one
        at or beyond the first or the last centre is that bin alone."""
        if self.values:
            return ((self.values.index(value), 1.0),)
        edges = np.asarray(self.edges, np.float64)
        centres = (edges[:-1] + edges[1:]) / 2
        upper = int(np.searchsorted(centres, float(value), side="right"))
        if upper in (0, len(centres)):
            return ((min(upper, len(centres) - 1), 1.0),)
        near = (centres[upper] - float(value)) / (centres[upper] - centres[upper - 1])
        return tuple((index, weight) for index, weight in ((upper - 1, near), (upper, 1.0 - near)) if weight > 0)

    def describe(self) -> dict:
        """What ``seqgen configs`` and bundles list: name, kind, values or range, description."""
        out: dict = {"name": self.name, "kind": self.kind, "description": self.description}
        if self.values:
            out["values"] = list(self.values)
        else:
            out.update(low=self.low, high=self.high)
        return out

    def valid(self) -> str:
        """The valid values, for error messages."""
        if self.values:
            shown = ", ".join(self.values[:_MAX_LISTED])
            return shown + (", ..." if len(self.values) > _MAX_LISTED else "")
        return f"a number from {self.low:g} to {self.high:g}"

    def check(self, value):
        """``value`` (text or typed) as this control's value, or a one-line SeqgenError."""
        if self.values:
            text = str(value).strip()
            if text not in self.values:
                raise SeqgenError(f"control {self.name} has no value {text!r}; valid: {self.valid()}")
            return text
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise SeqgenError(f"control {self.name} takes {self.valid()}, got {value!r}") from None
        if not math.isfinite(number) or not self.low <= number <= self.high:
            raise SeqgenError(f"control {self.name} takes {self.valid()}, got {value!r}")
        return number

    def to_record(self, value) -> float:
        return float(self.values.index(value)) if self.values else float(value)

    def from_record(self, number: float):
        """The value stored in a record (None when unset)."""
        if number is None or not math.isfinite(number):
            return None
        return self.values[int(number)] if self.values else float(number)


def check_controls(declared, controls) -> dict:
    """``controls`` ({name: value}, values may be text) checked against the ``declared`` controls: a dict
    of typed values without the unset ones; a one-line SeqgenError naming what is valid otherwise."""
    by_name = {control.name: control for control in declared}
    checked = {}
    for name, value in (controls or {}).items():
        if name not in by_name:
            names = ", ".join(by_name) or "none"
            raise SeqgenError(f"unknown control {name!r}; this model's controls are: {names}")
        if value is None or value == "":
            continue
        checked[name] = by_name[name].check(value)
    return checked


def parse(text: str) -> dict:
    """``"style=funk,fill=no"`` as ``{"style": "funk", "fill": "no"}``; a SeqgenError when malformed."""
    controls = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, equals, value = part.partition("=")
        name, value = name.strip(), value.strip()
        if not equals or not name or not value:
            raise SeqgenError(
                f"--control {text!r} is malformed at {part.strip()!r}; write name=value pairs "
                f"separated by commas, e.g. --control style=funk,density=12"
            )
        if name in controls:
            raise SeqgenError(f"--control names {name} twice; give each control once")
        controls[name] = value
    if not controls:
        raise SeqgenError("--control is empty; write name=value pairs, e.g. --control style=funk")
    return controls


def sequence_metadata(sequence) -> dict:
    """What a control may measure besides the track, from a NoteSequence: the columns a metadata CSV put
    in it (:func:`annotate`), ``genre`` (the first of ``sequence_metadata.genre``) and ``qpm`` (its
    first tempo)."""
    metadata = {}
    if sequence.sequence_metadata.genre:
        metadata["genre"] = sequence.sequence_metadata.genre[0]
    if sequence.tempos:
        metadata["qpm"] = float(sequence.tempos[0].qpm)
    for annotation in sequence.text_annotations:
        if annotation.text.startswith(METADATA_PREFIX):
            key, _, value = annotation.text[len(METADATA_PREFIX) :].partition("=")
            metadata[key] = value
    return metadata


def annotate(sequence, row: dict) -> None:
    """Put a metadata CSV row into a NoteSequence: every column as a text annotation ``seqgen:key=value``
    at time 0, and a ``genre`` or ``style`` column also in ``sequence_metadata.genre``."""
    for key, value in row.items():
        if key is None or value is None:
            continue
        sequence.text_annotations.add(time=0.0, text=f"{METADATA_PREFIX}{key}={value}")
    genre = row.get("genre") or row.get("style")
    if genre:
        sequence.sequence_metadata.genre.append(genre)


def load_metadata_csv(path, key: str = "midi_filename") -> dict:
    """``{file name relative to the input directory: row}`` of a metadata CSV (such as the Groove MIDI
    Dataset's info.csv); a one-line SeqgenError when it is missing or malformed."""
    if not os.path.isfile(path):
        raise SeqgenError(f"--metadata_csv {path} does not exist; give a CSV file with a {key!r} column")
    try:
        with open(path, newline="", encoding="utf-8") as stream:
            reader = csv.DictReader(stream)
            if key not in (reader.fieldnames or ()):
                raise SeqgenError(
                    f"--metadata_csv {path} has no {key!r} column; it needs one naming each MIDI "
                    f"file relative to --input_dir (as the Groove dataset's info.csv)"
                )
            rows = {}
            for row in reader:
                if None in row:
                    raise SeqgenError(
                        f"--metadata_csv {path} line {reader.line_num} has more fields than its header; check the CSV"
                    )
                name = (row.pop(key) or "").strip()
                if name:
                    rows[os.path.normpath(name)] = row
    except UnicodeDecodeError:
        raise SeqgenError(f"--metadata_csv {path} is not UTF-8 text; give a CSV file") from None
    except csv.Error as error:
        raise SeqgenError(f"--metadata_csv {path} is not a valid CSV file ({error})") from None
    except OSError as error:
        raise SeqgenError(f"cannot read --metadata_csv {path}: {error.strerror}") from None
    if not rows:
        raise SeqgenError(f"--metadata_csv {path} has no rows")
    return rows


def measure(declared, events, metadata: dict) -> dict:
    """The record context ``{control/<name>: float}`` of a track; controls that measure None are left out."""
    from seqgen.records import RECORD_PREFIX  # not at import: the record module's CRC tables cost start-up

    context = {}
    for control in declared:
        if control.measure is None:
            continue
        value = control.measure(events, metadata)
        if value is None:
            continue
        try:
            value = control.check(value)
        except SeqgenError:
            continue  # e.g. a style outside the declared ones: unset for this track
        context[RECORD_PREFIX + control.name] = control.to_record(value)
    return context
