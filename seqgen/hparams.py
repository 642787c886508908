"""Model hyperparameters: a frozen attrs class and the ``--hparams`` override parser."""

import re

import attrs

from seqgen.errors import SeqgenError


def _positive(instance, attribute, value):
    if value <= 0:
        raise SeqgenError(f"hparam {attribute.name} must be positive, got {value}")


def _layer_sizes(instance, attribute, value):
    if not value or any(size <= 0 for size in value):
        raise SeqgenError(f"hparam rnn_layer_sizes must be a non-empty list of positive sizes, got {list(value)}")


def _probability(instance, attribute, value):
    if not 0.0 < value <= 1.0:
        raise SeqgenError(f"hparam {attribute.name} must be in (0, 1], got {value}")


def _non_negative(instance, attribute, value):
    if value < 0:
        raise SeqgenError(f"hparam {attribute.name} must not be negative, got {value}")


@attrs.frozen
class HParams:
    """Magenta's events-RNN hyperparameters, with the same names."""

    batch_size: int = attrs.field(default=64, validator=_positive)
    rnn_layer_sizes: tuple = attrs.field(default=(128, 128), converter=tuple, validator=_layer_sizes)
    dropout_keep_prob: float = attrs.field(default=1.0, converter=float, validator=_probability)
    attn_length: int = attrs.field(default=0, validator=_non_negative)
    clip_norm: float = attrs.field(default=3.0, converter=float, validator=_positive)
    learning_rate: float = attrs.field(default=0.001, converter=float, validator=_positive)
    residual_connections: bool = False

    def to_dict(self) -> dict:
        values = attrs.asdict(self)
        values["rnn_layer_sizes"] = list(self.rnn_layer_sizes)
        return values

    @classmethod
    def from_dict(cls, values: dict) -> "HParams":
        unknown = sorted(set(values) - set(names()))
        if unknown:
            raise SeqgenError(f"unknown hparam {unknown[0]!r}; valid names: {', '.join(names())}")
        return cls(**values)

    def override(self, text: str) -> "HParams":
        """A copy with the overrides of a ``name=value,...`` string applied."""
        return attrs.evolve(self, **parse(text))


def names() -> list:
    return [field.name for field in attrs.fields(HParams)]


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
        if not re.fullmatch(r"[+-]?\d+", raw):
            fail("an integer")
        return int(raw)
    if kind is float:
        try:
            return float(raw)
        except ValueError:
            fail("a number")
    if not re.fullmatch(r"\[\s*(\d+\s*(,\s*\d+\s*)*)?\]", raw):
        fail("a list of integers such as [64,64]")
    return tuple(int(item) for item in raw.strip("[] ").split(",") if item.strip())


def parse(text: str) -> dict:
    """``"batch_size=64,rnn_layer_sizes=[64,64]"`` -> ``{"batch_size": 64, "rnn_layer_sizes": (64, 64)}``."""
    kinds = {field.name: field.type for field in attrs.fields(HParams)}
    kinds["rnn_layer_sizes"] = list
    values = {}
    for part in _split(text or ""):
        name, sep, raw = part.partition("=")
        name, raw = name.strip(), raw.strip()
        if not sep or not name or not raw:
            raise SeqgenError(f"malformed --hparams part {part!r}: expected name=value")
        if name not in kinds:
            raise SeqgenError(f"unknown hparam {name!r}; valid names: {', '.join(names())}")
        values[name] = _convert(name, kinds[name], raw)
    return values
