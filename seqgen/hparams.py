"""Hyperparameters: frozen attrs classes, one per model family, and the ``--hparams`` override parser.

:class:`HParams` holds what the shared training loop reads (batch_size, learning_rate, clip_norm,
precision); a family subclasses it with its own fields. Fields made with :func:`architecture` change the
network's shape: a run resumed or a checkpoint loaded must keep them, while the others (batch size,
learning rate, dropout, precision, ...) may change between runs. Values are parsed by each field's type:
int, float, bool, str, or tuple (a list of integers such as ``[64,64]``).
"""

import math
import re

import attrs

from seqgen.errors import SeqgenError

_ARCHITECTURE = "architecture"


def architecture(**kwargs):
    """An attrs field that is part of the network's architecture (must match when weights are reused)."""
    return attrs.field(metadata={_ARCHITECTURE: True}, **kwargs)


def positive(instance, attribute, value):
    if not value > 0 or (isinstance(value, float) and not math.isfinite(value)):
        raise SeqgenError(f"hparam {attribute.name} must be positive, got {value}")


def non_negative(instance, attribute, value):
    if not value >= 0 or (isinstance(value, float) and not math.isfinite(value)):
        raise SeqgenError(f"hparam {attribute.name} must not be negative, got {value}")


def probability(instance, attribute, value):
    if not 0.0 < value <= 1.0:
        raise SeqgenError(f"hparam {attribute.name} must be in (0, 1], got {value}")


#: Training precisions: float32, Keras's mixed policies (float32 weights, bfloat16 or float16 math), or auto:
#: mixed_bfloat16 on a CPU with bfloat16 units, else float32 (seqgen.training.devices.resolve_precision).
PRECISIONS = ("auto", "float32", "mixed_bfloat16", "mixed_float16")


def precision(instance, attribute, value):
    if value not in PRECISIONS:
        raise SeqgenError(f"hparam {attribute.name} must be one of {', '.join(PRECISIONS)}, got {value!r}")


def positive_sizes(instance, attribute, value):
    if not value or any(size <= 0 for size in value):
        raise SeqgenError(f"hparam {attribute.name} must be a non-empty list of positive sizes, got {list(value)}")


@attrs.frozen
class HParams:
    """The training hparams every family has (Magenta's names)."""

    batch_size: int = attrs.field(default=64, validator=positive)
    clip_norm: float = attrs.field(default=3.0, converter=float, validator=positive)
    learning_rate: float = attrs.field(default=0.001, converter=float, validator=positive)
    # The math of training and evaluation: the weights stay float32 (checkpoints are the same either way).
    # mixed_bfloat16 suits CPUs with AVX512_BF16 or AMX and recent GPUs; mixed_float16 GPUs (loss scaled).
    precision: str = attrs.field(default="float32", validator=precision)

    def to_dict(self) -> dict:
        return {name: list(value) if isinstance(value, tuple) else value for name, value in attrs.asdict(self).items()}

    @classmethod
    def names(cls) -> list:
        return [field.name for field in attrs.fields(cls)]

    @classmethod
    def architecture_names(cls) -> list:
        return [field.name for field in attrs.fields(cls) if field.metadata.get(_ARCHITECTURE)]

    @classmethod
    def from_dict(cls, values: dict) -> "HParams":
        unknown = sorted(set(values) - set(cls.names()))
        if unknown:
            raise SeqgenError(f"unknown hparam {unknown[0]!r}; valid names: {', '.join(cls.names())}")
        try:
            return cls(**values)
        except (TypeError, ValueError) as error:
            raise SeqgenError(f"invalid hparams {values}: {error}") from None

    @classmethod
    def parse(cls, text: str) -> dict:
        """``"batch_size=64,rnn_layer_sizes=[64,64]"`` -> ``{"batch_size": 64, "rnn_layer_sizes": (64, 64)}``."""
        kinds = {field.name: field.type for field in attrs.fields(cls)}
        values = {}
        for part in _split(text or ""):
            name, sep, raw = part.partition("=")
            name, raw = name.strip(), raw.strip()
            if not sep or not name or not raw:
                raise SeqgenError(f"malformed --hparams part {part!r}: expected name=value")
            if name not in kinds:
                raise SeqgenError(f"unknown hparam {name!r}; valid names: {', '.join(cls.names())}")
            values[name] = _convert(name, kinds[name], raw)
        return values

    def override(self, text: str) -> "HParams":
        """A copy with the overrides of a ``name=value,...`` string applied."""
        return attrs.evolve(self, **self.parse(text))

    def architecture_differences(self, other: "HParams") -> list:
        """Names of the architecture hparams whose values differ between ``self`` and ``other``."""
        if type(self) is not type(other):
            return self.architecture_names()
        return [name for name in self.architecture_names() if getattr(self, name) != getattr(other, name)]


def _split(text: str) -> list:
    """Split on commas outside brackets, refusing unbalanced brackets."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth < 0:
                raise SeqgenError(f"malformed --hparams: unmatched ']' at position {i + 1} in {text!r}")
        elif char in "{}()":
            raise SeqgenError(f"malformed --hparams: unexpected {char!r} at position {i + 1} in {text!r}")
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth:
        raise SeqgenError(f"malformed --hparams: unclosed '[' in {text!r}")
    parts.append(text[start:])
    return [part.strip() for part in parts if part.strip()]


_BOOLS = {"true": True, "false": False, "1": True, "0": False}


def _convert(name: str, kind, raw: str):
    def fail(expected):
        raise SeqgenError(f"hparam {name} expects {expected}, got {raw!r}")

    if kind is bool:
        if raw.lower() not in _BOOLS:
            fail("true or false")
        return _BOOLS[raw.lower()]
    if kind is int:
        if not re.fullmatch(r"[+-]?\d{1,18}", raw):
            fail("an integer")
        return int(raw)
    if kind is float:
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            fail("a finite number")
        return value
    if kind is str:
        return raw
    if not re.fullmatch(r"\[\s*(\d{1,9}\s*(,\s*\d{1,9}\s*)*)?\]", raw):
        fail("a list of integers such as [64,64]")
    return tuple(int(item) for item in raw.strip("[] ").split(",") if item.strip())
