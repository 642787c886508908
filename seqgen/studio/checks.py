"""The studio's request checks: the limits of what one request may ask, the page's words for its fields, and the
checked forms of its JSON bodies (:class:`Job`, :class:`Clip`). A bad value is a one-line SeqgenError in the
page's words (the app answers it with 400); a body of the wrong type or size is refused before it is parsed.
"""

import json
import math

import attrs
from starlette.exceptions import HTTPException

from seqgen.errors import SeqgenError


MAX_STEPS = 1024  # a take: the primer and the steps generated after it
MAX_OUTPUTS = 32
MAX_BEAM = 16  # beam_size and branch_factor each
MAX_BATCH = 512  # num_outputs * beam_size * branch_factor: rows advanced together each step (memory)
MAX_WORK = 16384  # num_outputs * beam_size * branch_factor * new_steps: the compute of one request
TEMPERATURE = (0.1, 10.0)  # below 0.1 the model only repeats its likeliest step, and float64 overflows
QPM = (20.0, 400.0)
MAX_PRIMER_FROM_MIDI = 256  # steps kept of a dropped MIDI file (whole bars when a bar fits)
MAX_UPLOAD = 1 << 20  # bytes of a dropped MIDI file
MAX_JSON = 256 << 10  # bytes of a JSON request
MAX_DEPTH = 6  # nesting of a JSON request (the deepest the page sends: {"hits": [[...]]})
SWING = (50.0, 75.0)  # percent of a pair of steps the first one lasts
MAX_TAPS = 512  # taps of a rhythm played to (the rhythm_models hook)
MAX_TAP_SECONDS = 60.0  # the latest tap, from the first
#: The page's words for the request's fields: error messages use them.
LABELS = {
    "new_steps": "Steps to generate",
    "num_outputs": "Takes",
    "temperature": "Temperature",
    "seed": "Seed",
    "beam_size": "Beam width",
    "branch_factor": "Branches",
    "steps_per_iteration": "Steps per round",
    "qpm": "Tempo (BPM)",
    "swing": "Swing (%)",
    "steps": "Take length",
    "velocity": "Velocity",
    "variation": "Variation",
}


# Request values


def shown(value) -> str:
    return "nothing" if value is None else str(value)[:40]


def whole(body, name, default, low, high):
    value = body.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise SeqgenError(f"{LABELS[name]} must be a whole number from {low} to {high}, got {shown(value)}")
    return value


def number(body, name, default, low, high):
    value = body.get(name, default)
    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or not (math.isfinite(value) and low <= value <= high)
    ):
        raise SeqgenError(f"{LABELS[name]} must be a number from {low:g} to {high:g}, got {shown(value)}")
    return float(value)


def check_fields(body, known) -> None:
    if not isinstance(body, dict):
        raise SeqgenError("the request must be a JSON object")
    unknown = sorted(set(body) - known)
    if unknown:
        raise SeqgenError(f"unknown field {unknown[0][:40]!r}; known: {', '.join(sorted(known))}")
    if not isinstance(body.get("model"), str):
        raise SeqgenError("model must be the id of a model from /api/models")


GENERATE_FIELDS = {
    "model",
    "new_steps",
    "num_outputs",
    "temperature",
    "seed",
    "beam_size",
    "branch_factor",
    "steps_per_iteration",
    "qpm",
    "options",
    "controls",
    "primer",
    "cells",
}
INFILL_FIELDS = {"model", "cells", "bars", "rows", "num_outputs", "temperature", "seed", "qpm", "controls"}


def controls_of(body) -> dict:
    """The request's ``controls`` ({name: value}); checked against the model's own when generating."""
    controls = body.get("controls") or {}
    if not isinstance(controls, dict) or not all(
        isinstance(value, (str, int, float, type(None))) and not isinstance(value, bool) for value in controls.values()
    ):
        raise SeqgenError('controls must map a control\'s name to a value, e.g. {"style": "funk"}')
    return controls


def checked_controls(model, controls: dict):
    """``controls`` checked against the model's (seqgen.controls.check_controls); None when none is set."""
    if not controls:
        return None
    from seqgen.controls import check_controls

    return check_controls(model.controls, controls) or None


@attrs.frozen
class Job:
    """A checked generate request: ``new_steps`` are generated after the primer."""

    model: str
    new_steps: int
    num_outputs: int
    temperature: float
    seed: object
    beam_size: int
    branch_factor: int
    steps_per_iteration: int
    qpm: float
    options: tuple  # flags of switches ticked
    controls: dict
    primer: object  # primer text, or None
    cells: object  # grid cells, or None

    @classmethod
    def from_body(cls, body):
        check_fields(body, GENERATE_FIELDS)
        seed = body.get("seed")
        if seed is not None:
            seed = whole(body, "seed", None, 0, 2**63 - 1)
        options = body.get("options", [])
        if not isinstance(options, list) or not all(isinstance(flag, str) for flag in options):
            raise SeqgenError("options must be a list of the flags of the model's switches")
        if body.get("primer") is not None and body.get("cells") is not None:
            raise SeqgenError("give the primer as text or as cells, not both")
        if not isinstance(body.get("primer", ""), (str, type(None))):
            raise SeqgenError("the primer must be text in the model's notation")
        job = cls(
            body["model"],
            whole(body, "new_steps", 64, 1, MAX_STEPS - 1),
            whole(body, "num_outputs", 1, 1, MAX_OUTPUTS),
            number(body, "temperature", 1.0, *TEMPERATURE),
            seed,
            whole(body, "beam_size", 1, 1, MAX_BEAM),
            whole(body, "branch_factor", 1, 1, MAX_BEAM),
            whole(body, "steps_per_iteration", 1, 1, MAX_STEPS),
            number(body, "qpm", 120.0, *QPM),
            tuple(options),
            controls_of(body),
            body.get("primer"),
            body.get("cells"),
        )
        rows = job.num_outputs * job.beam_size * job.branch_factor
        if rows > MAX_BATCH:
            raise SeqgenError(f"Takes x Beam width x Branches is {rows}; the studio allows at most {MAX_BATCH}")
        if rows * job.new_steps > MAX_WORK:
            raise SeqgenError(
                f"Takes x Beam width x Branches x Steps to generate is {job.num_outputs} x "
                f"{job.beam_size} x {job.branch_factor} x {job.new_steps} = {rows * job.new_steps}, "
                f"over the studio's limit of {MAX_WORK} per Generate; lower one of them"
            )
        return job


CLIP_FIELDS = {"model", "qpm", "swing", "steps", "hits"}


@attrs.frozen
class Clip:
    """A checked clip request: a take as the page plays it. ``hits`` are ``(step, row, velocity, offset)``,
    offset in steps (the timing a plugin gave the hit)."""

    model: str
    qpm: float
    swing: float
    steps: int
    hits: tuple

    @classmethod
    def from_body(cls, body, num_rows: int):
        check_fields(body, CLIP_FIELDS)
        steps = whole(body, "steps", None, 1, MAX_STEPS)
        hits = body.get("hits")
        if not isinstance(hits, list) or len(hits) > steps * max(num_rows, 1):
            raise SeqgenError(
                f"hits must be a list of at most {steps * max(num_rows, 1)} [step, row, velocity, offset]"
            )
        checked = set()
        for hit in hits:
            if not (
                isinstance(hit, list)
                and len(hit) == 4
                and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in hit)
                and all(isinstance(v, int) for v in hit[:3])
                and 0 <= hit[0] < steps
                and 0 <= hit[1] < num_rows
                and 1 <= hit[2] <= 127
                and -0.5 <= hit[3] <= 0.5
            ):
                raise SeqgenError(
                    f"each hit must be [step 0-{steps - 1}, row 0-{num_rows - 1}, {LABELS['velocity']} "
                    f"1-127, offset -0.5 to 0.5], got {shown(hit)}"
                )
            checked.add((hit[0], hit[1], hit[2], float(hit[3])))
        return cls(
            body["model"],
            number(body, "qpm", 120.0, *QPM),
            number(body, "swing", 50.0, *SWING),
            steps,
            tuple(sorted(checked)),
        )


async def read_body(request, limit: int, media_type: str) -> bytes:
    """The request body, which must be of ``media_type`` (415 otherwise); 413 as soon as it passes ``limit``."""
    given = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if given != media_type:
        raise HTTPException(415, f"send this as {media_type}, not {given[:40] or 'untyped'}")
    too_big = HTTPException(413, f"the upload is larger than {limit // 1024} KiB")
    if int(request.headers.get("content-length") or 0) > limit:
        raise too_big
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_big
        chunks.append(chunk)
    return b"".join(chunks)


def _depth(value) -> int:
    """How deeply lists and objects nest in a parsed JSON ``value`` (a scalar: 0)."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, (list, dict)):
            deepest = max(deepest, depth)
            pending.extend((item, depth + 1) for item in (value.values() if isinstance(value, dict) else value))
    return deepest


async def json_body(request) -> object:
    """The JSON value of the request (application/json, at most MAX_JSON bytes and MAX_DEPTH deep)."""
    data = await read_body(request, MAX_JSON, "application/json")
    too_deep = SeqgenError(f"the request nests deeper than {MAX_DEPTH} levels; the studio sends no such thing")
    try:
        value = json.loads(data)
    except RecursionError:
        raise too_deep from None
    except (ValueError, UnicodeDecodeError):
        raise SeqgenError("the request must be a JSON object") from None
    if _depth(value) > MAX_DEPTH:
        raise too_deep
    return value


RHYTHM_FIELDS = {"model", "times", "velocities", "qpm", "temperature", "seed"}
