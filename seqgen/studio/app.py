"""The studio's web server: a Starlette app serving the page and a small JSON API.

Nothing a request names reaches the filesystem except model ids, looked up in the server's own list
(shipped models and the bundles inside ``--models``), and result files of the caller's session, named by
ids the server made. Generation runs in a thread pool; each worker thread keeps its own copy of a model
because a model's stepper reuses scratch buffers between steps, and stops between steps when its client
has gone. Generated tracks pass through the plugins' ``postprocess_tracks`` hook with the flags of
``seqgen generate`` that the switches the plugins declare (``generate_options``) stand for. Tapped rhythms
become takes through the models the plugins offer for them (the ``rhythm_models`` hook).

Only same-origin requests change anything: :class:`Guard` refuses a cross-site ``Origin`` or
``Sec-Fetch-Site``, and every POST must carry a type no HTML form or no-cors fetch can send
(``application/json``, or ``audio/midi`` for a dropped file).
"""

import argparse
import asyncio
import collections
import concurrent.futures
import contextlib
import hashlib
import json
import logging
import math
import os
import re
import secrets
import shutil
import tempfile
import threading
import time

import attrs
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from seqgen.errors import SeqgenError
from seqgen.studio import grid
from seqgen.studio.live import LiveDesk

STATIC = os.path.join(os.path.dirname(__file__), "static")
BUNDLE_SUFFIXES = (".seqgen", ".mag")
COOKIE = "seqgen_studio"
LOOPBACK_NAMES = ["127.0.0.1", "localhost"]

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
MAX_SESSIONS = 256
SESSION_KEEP = 3600.0  # seconds a session's results are kept after its last request
MAX_RESULTS = 256  # files kept per session; the oldest go first
READ_TIMEOUT = 10.0  # seconds a request body may pause
MAX_ERROR = 300  # characters of an error message
SWING = (50.0, 75.0)  # percent of a pair of steps the first one lasts
MAX_TAPS = 512  # taps of a rhythm played to (the rhythm_models hook)
MAX_TAP_SECONDS = 60.0  # the latest tap, from the first
CSP = ("default-src 'self'; img-src 'self' data:; media-src 'self' blob:; object-src 'none'; base-uri 'none'; "
       "form-action 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-frame-options", b"DENY"),
                    (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                    (b"cross-origin-resource-policy", b"same-origin"), (b"cross-origin-opener-policy", b"same-origin")]
RESULT_NAME = re.compile(r"[0-9a-f]{16}\.(mid|wav)")
#: The page's words for the request's fields: error messages use them.
LABELS = {"new_steps": "Steps to generate", "num_outputs": "Takes", "temperature": "Temperature", "seed": "Seed",
          "beam_size": "Beam width", "branch_factor": "Branches", "steps_per_iteration": "Steps per round",
          "qpm": "Tempo (BPM)", "swing": "Swing (%)", "steps": "Take length", "velocity": "Velocity"}

log = logging.getLogger("seqgen.studio")


class ClientGone(Exception):
    """Raised between generation steps when the request's client has disconnected."""


@attrs.define
class Session:
    """One browser's output folder and the results it may download (file stem -> download name)."""

    folder: str
    results: collections.OrderedDict = attrs.Factory(collections.OrderedDict)
    used: float = attrs.Factory(time.monotonic)


class Studio:
    """The server's state: model list and cache, worker threads, session folders, and work counters."""

    def __init__(self, models_dir=None):
        self.models_dir = models_dir
        self._models = {}
        self._generative = {}  # (real path, mtime, size) -> whether the --models bundle loads and generates
        self._options = {}
        self._lock = threading.Lock()
        self._local = threading.local()
        self._sessions = collections.OrderedDict()
        self.counts = collections.Counter()  # "steps" generated, jobs "cancelled" (tests and logs read them)
        self._counting = threading.Lock()
        self.executor = self.root = self.soundfont = None
        self.live = LiveDesk()

    def open(self) -> None:
        from seqgen import render

        self.executor = concurrent.futures.ThreadPoolExecutor(min(4, os.cpu_count() or 1), "studio")
        self.root = tempfile.mkdtemp(prefix="seqgen-studio-")
        try:
            render.find_fluidsynth()
            self.soundfont = render.find_soundfont()
        except SeqgenError as error:
            log.warning("no WAV downloads: %s", error)

    def close(self) -> None:
        self.live.stop()
        self.executor.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.root, ignore_errors=True)

    async def run(self, function, *args):
        """``function(*args)`` in the worker pool."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    async def run_for(self, request, function, *args):
        """``function(*args, on_step)`` in the worker pool, stopped at its next step (``on_step`` raises
        ClientGone) when the client of ``request`` disconnects; ClientGone then."""
        gone = threading.Event()

        def on_step():
            if gone.is_set():
                raise ClientGone
            with self._counting:
                self.counts["steps"] += 1

        work = asyncio.ensure_future(self.run(function, *args, on_step))
        watcher = asyncio.ensure_future(_disconnected(request))
        try:
            await asyncio.wait({work, watcher}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            watcher.cancel()
        if not work.done():
            gone.set()
            work.cancel()  # a job still queued never starts
            with self._counting:
                self.counts["cancelled"] += 1
            work.add_done_callback(lambda done: done.cancelled() or done.exception())
            raise ClientGone
        return work.result()

    # Models

    def catalog(self) -> dict:
        """``{model id: what to load}``: shipped models that generate, by name (the default of `seqgen generate`
        first), then the bundles inside ``--models`` that load and generate, by file name."""
        from seqgen import plugins
        from seqgen.loading import shipped_models

        configs = plugins.configs().values()
        generative = {path for config in configs if config.family.generative for path in config.pretrained}
        defaults = {config.default_bundle for config in configs if config.default}
        shipped = sorted(shipped_models().items(), key=lambda item: item[1] not in defaults)
        found = {name: name for name, path in shipped if path in generative}
        if self.models_dir:
            root = os.path.realpath(self.models_dir)
            for name in sorted(os.listdir(root)):
                path = os.path.realpath(os.path.join(root, name))  # a link is followed only inside the folder
                if (name.endswith(BUNDLE_SUFFIXES) and os.path.commonpath([root, path]) == root
                        and os.path.isfile(path) and self._generates(path)):
                    found[name] = path
        return found

    def _generates(self, path: str) -> bool:
        """Whether the bundle at ``path`` loads and generates (remembered while the file is unchanged)."""
        import seqgen

        stat = os.stat(path)
        key = (path, stat.st_mtime_ns, stat.st_size)
        if key not in self._generative:
            try:
                self._generative[key] = seqgen.load(path).family.generative
            except SeqgenError as error:
                log.warning("--models: %s is not offered: %s", os.path.basename(path), error)
                self._generative[key] = False
        return self._generative[key]

    def source(self, model_id) -> str:
        found = self.catalog()
        if not isinstance(model_id, str) or model_id not in found:
            raise HTTPException(404, f"no model {str(model_id)[:80]!r}; choose one of {', '.join(found)}")
        return found[model_id]

    def model(self, model_id: str):
        """The loaded model (loaded once), for reading its config; SeqgenError when it does not generate."""
        import seqgen

        source = self.source(model_id)
        with self._lock:
            if model_id not in self._models:
                model = seqgen.load(source)
                if not model.family.generative:
                    raise SeqgenError(f"{model_id} is a {model.config.model} model, which does not generate "
                                      f"tracks; choose another model")
                self._models[model_id] = model
            return self._models[model_id]

    def worker_model(self, model_id: str):
        """This worker thread's own copy of the model, which it alone generates with."""
        copies = self._local.__dict__.setdefault("models", {})
        if model_id not in copies:
            copies[model_id] = attrs.evolve(self.model(model_id))
        return copies[model_id]

    @staticmethod
    def rhythm_models() -> dict:
        """``{name: function}`` of the models the plugins offer for playing to tapped rhythms (the
        ``rhythm_models`` hook), the first plugin's first; a later plugin's wins a shared name."""
        from seqgen import plugins

        found = {}
        for offered in plugins.manager().hook.rhythm_models()[::-1]:  # the hook answers the last plugin first
            found.update(offered or {})
        return found

    def rhythm_model(self, name):
        found = self.rhythm_models()
        if not isinstance(name, str) or name not in found:
            raise HTTPException(404, f"no model {str(name)[:80]!r} plays to taps here; choose one of "
                                     f"{', '.join(found) or 'none (no plugin offers one)'}")
        return found[name]

    def options(self, model_id: str) -> dict:
        """``{flag: GenerateOption}`` the plugins declare for the model (the ``generate_options`` hook)."""
        from seqgen import plugins

        if model_id not in self._options:
            declared = plugins.manager().hook.generate_options(model=self.model(model_id))  # the last plugin first
            self._options[model_id] = {option.flag: option for found in declared[::-1] for option in found or ()}
        return self._options[model_id]

    # Sessions

    def session(self, request, create=False) -> tuple:
        """``(session, token)`` of the caller: its own, or a new one when ``create`` (its token is for the
        answer's cookie; None for an existing session). Only sessions idle for SESSION_KEEP make room for
        new ones, so requests without a cookie cannot push out a browser's results."""
        token = request.cookies.get(COOKIE, "")
        now = time.monotonic()
        if token in self._sessions:
            self._sessions.move_to_end(token)
            self._sessions[token].used = now
            return self._sessions[token], None
        if not create:
            raise HTTPException(404, "this browser has no results yet; generate some first")
        while self._sessions and now - next(iter(self._sessions.values())).used > SESSION_KEEP:
            shutil.rmtree(self._sessions.popitem(last=False)[1].folder, ignore_errors=True)
        if len(self._sessions) >= MAX_SESSIONS:
            raise HTTPException(503, f"the studio is keeping the results of {MAX_SESSIONS} other browsers for "
                                     f"{SESSION_KEEP / 3600:g} hour after their last use; try again later")
        token = secrets.token_hex(16)
        self._sessions[token] = Session(os.path.join(self.root, token))
        os.mkdir(self._sessions[token].folder)
        return self._sessions[token], token

    def keep(self, session: Session, stem: str, download_name: str) -> None:
        session.results[stem] = download_name
        session.results.move_to_end(stem)
        while len(session.results) > MAX_RESULTS:
            old = session.results.popitem(last=False)[0]
            for suffix in (".mid", ".wav"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(os.path.join(session.folder, old + suffix))


async def _disconnected(request) -> None:
    """Returns when the client of ``request`` (whose body has been read) disconnects."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


# Request values


def _shown(value) -> str:
    return "nothing" if value is None else str(value)[:40]


def _whole(body, name, default, low, high):
    value = body.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise SeqgenError(f"{LABELS[name]} must be a whole number from {low} to {high}, got {_shown(value)}")
    return value


def _number(body, name, default, low, high):
    value = body.get(name, default)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not (
            math.isfinite(value) and low <= value <= high):
        raise SeqgenError(f"{LABELS[name]} must be a number from {low:g} to {high:g}, got {_shown(value)}")
    return float(value)


def _fields(body, known) -> None:
    if not isinstance(body, dict):
        raise SeqgenError("the request must be a JSON object")
    unknown = sorted(set(body) - known)
    if unknown:
        raise SeqgenError(f"unknown field {unknown[0][:40]!r}; known: {', '.join(sorted(known))}")
    if not isinstance(body.get("model"), str):
        raise SeqgenError("model must be the id of a model from /api/models")


GENERATE_FIELDS = {"model", "new_steps", "num_outputs", "temperature", "seed", "beam_size", "branch_factor",
                   "steps_per_iteration", "qpm", "options", "controls", "primer", "cells"}
INFILL_FIELDS = {"model", "cells", "bars", "rows", "num_outputs", "temperature", "seed", "qpm", "controls"}
INFILL_CANDIDATES = 8  # gaps Generator.infill samples per take by default (rescoring)


def _controls(body) -> dict:
    """The request's ``controls`` ({name: value}); checked against the model's own when generating."""
    controls = body.get("controls") or {}
    if not isinstance(controls, dict) or not all(
            isinstance(value, (str, int, float, type(None))) and not isinstance(value, bool)
            for value in controls.values()):
        raise SeqgenError("controls must map a control's name to a value, e.g. {\"style\": \"funk\"}")
    return controls


def _checked_controls(model, controls: dict):
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
        _fields(body, GENERATE_FIELDS)
        seed = body.get("seed")
        if seed is not None:
            seed = _whole(body, "seed", None, 0, 2 ** 63 - 1)
        options = body.get("options", [])
        if not isinstance(options, list) or not all(isinstance(flag, str) for flag in options):
            raise SeqgenError("options must be a list of the flags of the model's switches")
        if body.get("primer") is not None and body.get("cells") is not None:
            raise SeqgenError("give the primer as text or as cells, not both")
        if not isinstance(body.get("primer", ""), (str, type(None))):
            raise SeqgenError("the primer must be text in the model's notation")
        job = cls(body["model"], _whole(body, "new_steps", 64, 1, MAX_STEPS - 1),
                  _whole(body, "num_outputs", 1, 1, MAX_OUTPUTS), _number(body, "temperature", 1.0, *TEMPERATURE),
                  seed, _whole(body, "beam_size", 1, 1, MAX_BEAM), _whole(body, "branch_factor", 1, 1, MAX_BEAM),
                  _whole(body, "steps_per_iteration", 1, 1, MAX_STEPS), _number(body, "qpm", 120.0, *QPM),
                  tuple(options), _controls(body), body.get("primer"), body.get("cells"))
        rows = job.num_outputs * job.beam_size * job.branch_factor
        if rows > MAX_BATCH:
            raise SeqgenError(f"Takes x Beam width x Branches is {rows}; the studio allows at most {MAX_BATCH}")
        if rows * job.new_steps > MAX_WORK:
            raise SeqgenError(f"Takes x Beam width x Branches x Steps to generate is {job.num_outputs} x "
                              f"{job.beam_size} x {job.branch_factor} x {job.new_steps} = {rows * job.new_steps}, "
                              f"over the studio's limit of {MAX_WORK} per Generate; lower one of them")
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
        _fields(body, CLIP_FIELDS)
        steps = _whole(body, "steps", None, 1, MAX_STEPS)
        hits = body.get("hits")
        if not isinstance(hits, list) or len(hits) > steps * max(num_rows, 1):
            raise SeqgenError(f"hits must be a list of at most {steps * max(num_rows, 1)} [step, row, velocity, "
                              f"offset]")
        checked = set()
        for hit in hits:
            if not (isinstance(hit, list) and len(hit) == 4 and all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in hit)
                    and all(isinstance(v, int) for v in hit[:3]) and 0 <= hit[0] < steps
                    and 0 <= hit[1] < num_rows and 1 <= hit[2] <= 127 and -0.5 <= hit[3] <= 0.5):
                raise SeqgenError(f"each hit must be [step 0-{steps - 1}, row 0-{num_rows - 1}, {LABELS['velocity']} "
                                  f"1-127, offset -0.5 to 0.5], got {_shown(hit)}")
            checked.add((hit[0], hit[1], hit[2], float(hit[3])))
        return cls(body["model"], _number(body, "qpm", 120.0, *QPM), _number(body, "swing", 50.0, *SWING), steps,
                   tuple(sorted(checked)))


async def _body(request, limit: int, media_type: str) -> bytes:
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


async def _json_body(request) -> object:
    """The JSON value of the request (application/json, at most MAX_JSON bytes and MAX_DEPTH deep)."""
    data = await _body(request, MAX_JSON, "application/json")
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


def _plain_summary(config, rows) -> str:
    """What the model makes, in a musician's words."""
    beat = f"{config.steps_per_quarter} steps per beat"
    if not rows:
        return f"Makes {config.tracks.plural}, {beat}."
    return f"Makes {config.tracks.plural} on {len(rows)} sounds ({', '.join(label for label, _ in rows)}), {beat}."


def _description(studio: Studio, model_id: str) -> dict:
    model = studio.model(model_id)
    config, rows = model.config, grid.rows(model.config)
    primer = model.primer() if config.tracks.default_primer is not None else None
    return {"id": model_id, "config": config.id, "plugin": config.plugin, "summary": _plain_summary(config, rows),
            "description": model.description or config.description, "noun": config.tracks.noun,
            "plural": config.tracks.plural,
            "steps_per_quarter": config.steps_per_quarter,
            "rows": [{"label": label, "pitches": list(pitches), "drum": _sound(config, pitches[0]).is_drum}
                     for label, pitches in rows],
            "default_primer": None if primer is None else {
                "text": config.tracks.format_events(primer),
                "cells": grid.events_to_cells(primer, rows) if rows else None},
            "options": [attrs.asdict(option) for option in studio.options(model_id).values()],
            "controls": [control.describe() for control in getattr(model, "controls", ())],
            "infill_rows": bool(_parts(config, rows))}


def _sound(config, pitch: int):
    """The Note a one-step event of ``pitch`` plays at step 0, 120 qpm (drum or not, program, length)."""
    return config.tracks.notes([frozenset({pitch})], config.steps_per_quarter, 120.0)[0]


def _notes(track) -> list:
    """``[[start, end, pitch, velocity, is_drum]]`` (seconds) of what the track plays."""
    config = track.config
    return [[round(note.start, 4), round(note.end, 4), note.pitch, note.velocity, note.is_drum]
            for note in config.tracks.notes(track.events, config.steps_per_quarter, track.qpm)]


def _hits(notes, rows, step_seconds: float) -> list:
    """``[[step, row, velocity, offset]]`` of the notes on the grid (offset: the timing, in steps)."""
    row_of = {}
    for r, (_, pitches) in enumerate(rows):
        for pitch in pitches:
            row_of.setdefault(pitch, r)
    hits = []
    for start, _, pitch, velocity, _ in notes:
        step = round(start / step_seconds)
        if pitch in row_of:
            hits.append([step, row_of[pitch], velocity, round(max(-0.5, min(0.5, start / step_seconds - step)), 3)])
    return hits


def _generate_args(flags):
    """What ``seqgen generate`` (with plugins' flags) parses from the switches' ``flags``."""
    from seqgen import plugins

    parser = argparse.ArgumentParser()
    plugins.commands()["generate"].add_arguments(parser)
    plugins.extend_command("generate", parser)
    return parser.parse_args(list(flags))


def _generate(studio: Studio, job: Job, folder: str, on_step) -> list:
    """Generate the tracks of ``job``, write them as MIDI files into ``folder``; ``[(stem, result json)]``."""
    from seqgen import plugins

    model = studio.worker_model(job.model)
    rows = grid.rows(model.config)
    options = studio.options(job.model)
    for flag in job.options:
        if flag not in options:
            raise SeqgenError(f"{job.model} has no switch {flag[:40]!r}; its switches: "
                              f"{', '.join(options) or 'none'}")
        if options[flag].unavailable:
            raise SeqgenError(f"{options[flag].label} {options[flag].unavailable}; untick it")
    if job.cells is not None:
        if not rows:
            raise SeqgenError(f"{model.config.id} has no grid; give the primer as text")
        primer = grid.cells_to_events(job.cells, rows)
    else:
        primer = model.primer(job.primer or None)
    if len(primer) + job.new_steps > MAX_STEPS:
        raise SeqgenError(f"the primer ({len(primer)} steps) and {LABELS['new_steps']} ({job.new_steps}) make "
                          f"{len(primer) + job.new_steps} steps; the studio makes takes of at most {MAX_STEPS}")
    tracks = model.generate(job.num_outputs, len(primer) + job.new_steps, primer, job.temperature, job.seed,
                            job.beam_size, job.branch_factor, job.steps_per_iteration, job.qpm, on_step=on_step,
                            controls=_checked_controls(model, job.controls))
    return _results(plugins.postprocess_tracks(_generate_args(job.options), model, tracks), folder, len(primer))


def _results(tracks, folder: str, primer_steps: int) -> list:
    """Write ``tracks`` as MIDI files into ``folder``; ``[(stem, result json)]``."""
    results = []
    for track in tracks:
        rows = grid.rows(track.config)
        stem = secrets.token_hex(8)
        track.write_midi(os.path.join(folder, stem + ".mid"))
        notes = _notes(track)
        step_seconds = 60.0 / track.qpm / track.config.steps_per_quarter
        results.append((stem, {"id": stem, "steps": len(track), "primer_steps": primer_steps,
                               "steps_per_quarter": track.config.steps_per_quarter,
                               "text": track.config.tracks.format_events(track.events), "notes": notes,
                               "cells": grid.events_to_cells(track.events, rows) if rows else None,
                               "hits": _hits(notes, rows, step_seconds) if rows else None}))
    return results


def _infill(studio: Studio, body: dict, folder: str) -> list:
    """Regenerate the chosen bars (and rows) of a take: ``[(stem, result json)]`` of the new takes."""
    from seqgen.model import Track

    model = studio.worker_model(body["model"])
    config, rows = model.config, grid.rows(model.config)
    if not rows:
        raise SeqgenError(f"{config.id} has no grid; choose bars on a grid model")
    events = grid.cells_to_events(body.get("cells"), rows)
    bars = body.get("bars")
    if not (isinstance(bars, list) and len(bars) == 2 and all(isinstance(b, int) and not isinstance(b, bool)
                                                              for b in bars)):
        raise SeqgenError("Bars must be the first and last bar to regenerate, e.g. [3, 4]")
    chosen = body.get("rows") or []
    parts = _parts(config, rows)
    if not isinstance(chosen, list) or not all(isinstance(r, int) and 0 <= r < len(parts) for r in chosen):
        raise SeqgenError(f"rows must be row numbers from 0 to {len(parts) - 1}" if parts else
                          f"{config.id} regenerates whole steps: choose no rows")
    num_outputs = _whole(body, "num_outputs", 1, 1, MAX_OUTPUTS)
    tries = INFILL_CANDIDATES
    work = num_outputs * len(events) * tries
    if work > MAX_WORK:
        raise SeqgenError(f"Takes x take length{f' x {tries} (tries)' if tries > 1 else ''} is {work}, over the "
                          f"studio's limit of {MAX_WORK}; choose fewer takes or a shorter take")
    seed = None if body.get("seed") is None else _whole(body, "seed", None, 0, 2 ** 63 - 1)
    qpm = _number(body, "qpm", 120.0, *QPM)
    tracks = model.infill(Track(events, config, qpm), bars=tuple(bars), instruments=[parts[r] for r in chosen],
                          num_outputs=num_outputs, temperature=_number(body, "temperature", 1.0, *TEMPERATURE),
                          seed=seed, controls=_checked_controls(model, _controls(body)),
                          steps_per_bar=4 * config.steps_per_quarter)
    return _results(tracks, folder, 0)


RHYTHM_FIELDS = {"model", "times", "velocities", "qpm", "temperature", "seed"}


def _from_rhythm(studio: Studio, body: dict, folder: str) -> list:
    """A take played to the taps of the request by a model a plugin offers: ``[(stem, result json)]``."""
    times = body.get("times")
    if not isinstance(times, list) or not times:
        raise SeqgenError("there are no taps; tap a rhythm first (press T, or click the pad)")
    if len(times) > MAX_TAPS:
        raise SeqgenError(f"{len(times)} taps are more than the studio takes ({MAX_TAPS}); tap a shorter rhythm")
    if not all(isinstance(t, (int, float)) and not isinstance(t, bool) and math.isfinite(t)
               and 0 <= t <= MAX_TAP_SECONDS for t in times):
        raise SeqgenError(f"tap times must be seconds from the first tap, from 0 to {MAX_TAP_SECONDS:g}; "
                          f"tap a shorter rhythm")
    velocities = body.get("velocities")
    if velocities is not None and not (isinstance(velocities, list) and len(velocities) == len(times) and all(
            isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 127 for v in velocities)):
        raise SeqgenError("velocities must be one whole number from 1 to 127 per tap")
    seed = None if body.get("seed") is None else _whole(body, "seed", None, 0, 2 ** 63 - 1)
    track = studio.rhythm_model(body["model"])(
        [float(t) for t in times], velocities, _number(body, "qpm", 120.0, *QPM),
        _number(body, "temperature", 1.0, *TEMPERATURE), seed)
    return _results([track], folder, 0)


def _taps_from_midi(data: bytes) -> dict:
    """The onsets of every note of a dropped MIDI file as taps (the loudest note of each moment), at most
    MAX_TAPS within MAX_TAP_SECONDS: ``{times, velocities, qpm (its first tempo), notice}``."""
    import pretty_midi

    from seqgen.midi_reader import describe_error, read_midi_file

    name = "the dropped MIDI file"
    try:
        midi = pretty_midi.PrettyMIDI(mido_object=read_midi_file(data, name))
    except SeqgenError:
        raise
    except Exception as error:  # pretty_midi's many kinds on odd files
        raise SeqgenError(f"{name} is not a valid MIDI file ({describe_error(error)}); give a Standard MIDI "
                          f"File (.mid)") from None
    loudest = collections.Counter()
    for note in (note for instrument in midi.instruments for note in instrument.notes if note.velocity > 0):
        moment = round(note.start, 4)
        loudest[moment] = max(loudest[moment], note.velocity)
    onsets = sorted(loudest.items())
    if not onsets:
        raise SeqgenError(f"{name} has no notes; drop a file with the rhythm to play to")
    kept = [(time, velocity) for time, velocity in onsets if time <= MAX_TAP_SECONDS][:MAX_TAPS]
    if not kept:
        raise SeqgenError(f"{name} has no notes in its first {MAX_TAP_SECONDS:g} s; cut the part to play to")
    notices = [f"kept the first {len(kept)} onsets of {len(onsets)}"] if len(kept) < len(onsets) else []
    tempi = [round(float(tempo), 2) for tempo in midi.get_tempo_changes()[1]] or [120.0]
    qpm = min(max(tempi[0], QPM[0]), QPM[1])
    if len(set(tempi)) > 1 or qpm != tempi[0]:
        notices.append(f"taps follow {qpm:g} BPM (its tempo {'changes' if len(set(tempi)) > 1 else 'is out of range'})")
    return {"times": [time for time, _ in kept], "velocities": [velocity for _, velocity in kept], "qpm": qpm,
            "notice": "; ".join(notices)}


def _parts(config, rows) -> list:
    """The encoding's parts (instruments infilling may regenerate alone) by grid row; empty when the
    encoding has none or they are not one per row."""
    parts = list(getattr(config.encoding, "parts", ()))
    return parts if len(parts) == len(rows) else []


def _write_clip(model, clip: Clip, path: str) -> None:
    """Write ``clip`` as a MIDI file for a DAW: each hit at its row's first pitch, swing and timing applied."""
    import pretty_midi

    config, rows = model.config, grid.rows(model.config)
    step_seconds = 60.0 / clip.qpm / config.steps_per_quarter
    delay = clip.swing / 50.0 - 1.0  # steps the second step of each pair is late
    midi = pretty_midi.PrettyMIDI(resolution=480, initial_tempo=clip.qpm)
    midi.time_signature_changes.append(pretty_midi.TimeSignature(4, 4, 0.0))
    instruments, sounds = {}, [_sound(config, pitches[0]) for _, pitches in rows]
    for step, row, velocity, offset in clip.hits:
        pitch, sound = rows[row][1][0], sounds[row]
        key = (sound.program, sound.is_drum)
        if key not in instruments:
            instruments[key] = pretty_midi.Instrument(sound.program, sound.is_drum, name=config.tracks.noun)
            midi.instruments.append(instruments[key])
        start = max(0.0, (step + offset + delay * (step % 2)) * step_seconds)
        instruments[key].notes.append(pretty_midi.Note(velocity, pitch, start, start + sound.end - sound.start))
    midi.write(path)


def _primer_from_midi(model, path) -> dict:
    config, rows = model.config, grid.rows(model.config)
    found = config.tracks.primer_from_midi(path, config)
    events, notices = found.events, [found.notice] if found.notice else []
    if len(events) > MAX_PRIMER_FROM_MIDI:
        bars = MAX_PRIMER_FROM_MIDI // found.steps_per_bar
        events = events[:bars * found.steps_per_bar] if bars else events[:MAX_PRIMER_FROM_MIDI]
        notices.append(f"kept the first {bars} bars of {math.ceil(len(found.events) / found.steps_per_bar)}"
                       if bars else f"kept the first {MAX_PRIMER_FROM_MIDI} steps of {len(found.events)}")
    qpm = min(max(found.qpm, QPM[0]), QPM[1])
    if qpm != found.qpm:
        notices.append(f"its tempo {found.qpm:.0f} BPM is outside {QPM[0]:g}-{QPM[1]:g}: playing at {qpm:g}")
    return {"steps": len(events), "qpm": qpm, "steps_per_bar": found.steps_per_bar,
            "notice": "; ".join(notices), "text": config.tracks.format_events(events),
            "cells": grid.events_to_cells(events, rows) if rows else None}


# Routes


def _answer(content, token) -> JSONResponse:
    """A JSON answer that sets the session cookie when ``token`` is a new session's."""
    response = JSONResponse(content)
    if token:
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
    return response


async def index(request):
    with open(os.path.join(STATIC, "index.html"), encoding="utf-8") as file:
        return HTMLResponse(file.read())


async def list_models(request):
    studio = request.app.state.studio
    catalog = await studio.run(studio.catalog)
    return JSONResponse({
        "models": [{"id": model_id, "shipped": source == model_id} for model_id, source in catalog.items()],
        "wav": studio.soundfont is not None,
        "rhythm_models": list(studio.rhythm_models()),
        "limits": {"steps": MAX_STEPS, "num_outputs": MAX_OUTPUTS, "beam_size": MAX_BEAM,
                   "branch_factor": MAX_BEAM, "batch": MAX_BATCH, "work": MAX_WORK, "upload_bytes": MAX_UPLOAD,
                   "temperature": TEMPERATURE, "qpm": QPM, "swing": SWING,
                   "primer_from_midi": MAX_PRIMER_FROM_MIDI, "taps": MAX_TAPS, "tap_seconds": MAX_TAP_SECONDS}})


async def describe_model(request):
    studio, model_id = request.app.state.studio, request.path_params["model_id"]
    return JSONResponse(await studio.run(_description, studio, model_id))


async def primer(request):
    studio = request.app.state.studio
    model_id = request.query_params.get("model")
    studio.source(model_id)
    data = await _body(request, MAX_UPLOAD, "audio/midi")
    if not data:
        raise SeqgenError("the upload is empty; drop a MIDI file")
    session, token = studio.session(request, create=True)
    path = os.path.join(session.folder, f"upload-{secrets.token_hex(8)}.mid")
    with open(path, "wb") as file:
        file.write(data)
    try:
        model = await studio.run(studio.model, model_id)
        found = await studio.run(_primer_from_midi, model, path)
    except SeqgenError as error:  # its message names the server's temporary file
        message = str(error).replace(f"primer MIDI file {path}", "the dropped MIDI file")
        raise SeqgenError(message.replace(path, "the dropped file")) from None
    finally:
        os.remove(path)
    return _answer(found, token)


async def generate(request):
    studio = request.app.state.studio
    job = Job.from_body(await _json_body(request))
    studio.source(job.model)
    session, token = studio.session(request, create=True)
    try:
        found = await studio.run_for(request, _generate, studio, job, session.folder)
    except ClientGone:
        log.info("a generate request was abandoned by its client; stopped")
        return Response(status_code=499)
    return _kept(studio, session, token, job.model, found)


async def infill(request):
    """New takes from a take with the chosen bars (and rows) regenerated; the take itself is kept."""
    studio = request.app.state.studio
    return await _new_takes(request, INFILL_FIELDS, studio.source, _infill)


async def from_rhythm(request):
    """A new take played to tapped rhythm by a model a plugin offers (the ``rhythm_models`` hook)."""
    studio = request.app.state.studio
    return await _new_takes(request, RHYTHM_FIELDS, studio.rhythm_model, _from_rhythm)


async def taps(request):
    """The onsets of a dropped MIDI file as taps, for a model that plays to taps (nothing is kept)."""
    data = await _body(request, MAX_UPLOAD, "audio/midi")
    if not data:
        raise SeqgenError("the upload is empty; drop a MIDI file")
    return JSONResponse(await request.app.state.studio.run(_taps_from_midi, data))


async def _new_takes(request, fields: set, find_model, make) -> JSONResponse:
    """The answer to a JSON request of ``fields`` for new takes: its model looked up by ``find_model`` (404
    when unknown), then ``make(studio, body, folder)`` (``[(stem, result json)]``) run in the pool."""
    studio = request.app.state.studio
    body = await _json_body(request)
    _fields(body, fields)
    find_model(body["model"])
    session, token = studio.session(request, create=True)
    found = await studio.run(make, studio, body, session.folder)
    return _kept(studio, session, token, body["model"], found)


def _kept(studio: Studio, session: Session, token, model_id: str, found) -> JSONResponse:
    """The answer listing the results ``found`` (``[(stem, result json)]``), kept in the session."""
    for n, (stem, _) in enumerate(found, 1):
        studio.keep(session, stem, f"{os.path.splitext(model_id)[0]}_{stem[:6]}_{n}")
    return _answer({"results": [result for _, result in found]}, token)


async def clip(request):
    """A take as the page plays it (painted velocities, swing, timing) as a MIDI file of the session."""
    studio = request.app.state.studio
    body = await _json_body(request)
    _fields(body, CLIP_FIELDS)
    model = await studio.run(studio.model, body["model"])
    rows = grid.rows(model.config)
    if not rows:
        raise SeqgenError(f"{model.config.id} has no grid; download its takes as generated")
    job = Clip.from_body(body, len(rows))
    session, token = studio.session(request, create=True)
    stem = hashlib.sha256(repr(attrs.astuple(job)).encode()).hexdigest()[:16]
    path = os.path.join(session.folder, stem + ".mid")
    if not os.path.exists(path):
        await studio.run(_write_clip, model, job, path)
    studio.keep(session, stem, f"{os.path.splitext(job.model)[0]}_take_{stem[:6]}")
    return _answer({"id": stem}, token)


LIVE_FIELDS = {"model", "qpm", "controls", "midi", "osc"}
MAX_OSC = 300  # characters of an OSC host:port


async def live_status(request):
    return JSONResponse(request.app.state.studio.live.status())


async def live_start(request):
    """The Live panel's Start: the model plays bar by bar to the virtual MIDI port and/or an OSC receiver."""
    studio = request.app.state.studio
    body = await _json_body(request)
    _fields(body, LIVE_FIELDS)
    qpm = _number(body, "qpm", 120.0, *QPM)
    midi, osc = body.get("midi", True), body.get("osc") or ""
    if not isinstance(midi, bool) or not isinstance(osc, str) or len(osc) > MAX_OSC:
        raise SeqgenError(f"midi must be true or false, osc a host:port of at most {MAX_OSC} characters")
    model = await studio.run(studio.model, body["model"])
    return JSONResponse(await studio.run(studio.live.start, model, body["model"], qpm, _controls(body), midi,
                                         osc.strip()))


async def live_steer(request):
    """The Live panel's knobs: the controls of the next bars."""
    body = await _json_body(request)
    if not isinstance(body, dict) or set(body) != {"controls"}:
        raise SeqgenError("the request must be {\"controls\": {name: value}}")
    studio = request.app.state.studio
    return JSONResponse(await studio.run(studio.live.steer, _controls(body)))


async def live_stop(request):
    studio = request.app.state.studio
    return JSONResponse(await studio.run(studio.live.stop))


async def download(request):
    studio, name = request.app.state.studio, request.path_params["name"]
    session, _ = studio.session(request)
    stem, suffix = os.path.splitext(name)
    if not RESULT_NAME.fullmatch(name) or stem not in session.results:
        raise HTTPException(404, f"no result {name[:40]!r} in this browser's session")
    path = os.path.join(session.folder, name)
    if suffix == ".wav":
        if studio.soundfont is None:
            raise HTTPException(404, "WAV downloads need FluidSynth and a soundfont: apt-get install fluidsynth "
                                     "timgm6mb-soundfont")
        if not os.path.exists(path):
            from seqgen import render

            await studio.run(render.render_wav, path[:-4] + ".mid", path, studio.soundfont)
    return FileResponse(path, filename=session.results[stem] + suffix,
                        media_type="audio/midi" if suffix == ".mid" else "audio/wav")


def _cut(message: str) -> str:
    """One line of at most MAX_ERROR characters."""
    line = " ".join(str(message).split())
    return line if len(line) <= MAX_ERROR else line[:MAX_ERROR - 1] + "…"


async def _seqgen_error(request, error):
    return JSONResponse({"error": _cut(error)}, status_code=400)


async def _http_error(request, error):
    return JSONResponse({"error": _cut(error.detail)}, status_code=error.status_code, headers=error.headers)


async def _internal_error(request, error):
    return JSONResponse({"error": _cut(f"the studio failed ({type(error).__name__}: {str(error)[:200]}); "
                                       f"see the terminal running seqgen studio")}, status_code=500)


class Guard:
    """ASGI middleware: security headers on every answer, cross-site requests that change anything refused
    (403), and request bodies that pause longer than READ_TIMEOUT refused (408)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_guarded(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        refusal = self._refusal(scope)
        if refusal:
            return await JSONResponse({"error": refusal}, status_code=403)(scope, receive, send_guarded)
        body_done = False

        async def receive_in_time():
            nonlocal body_done
            if body_done:
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), READ_TIMEOUT)
            except asyncio.TimeoutError:
                raise HTTPException(408, f"the request body did not arrive within {READ_TIMEOUT:g} s",
                                    headers={"connection": "close"}) from None
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        await self.app(scope, receive_in_time, send_guarded)

    @staticmethod
    def _refusal(scope) -> str:
        """Why a request from another site is refused; empty when it is same-origin or changes nothing."""
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return ""
        headers = Headers(scope=scope)
        site = headers.get("sec-fetch-site")
        if site is not None and site != "same-origin":
            return f"requests from other sites ({site[:20]}) cannot change anything here"
        origin = headers.get("origin")
        if origin is not None and origin != f"{scope.get('scheme', 'http')}://{headers.get('host', '')}":
            return f"requests from {origin[:60]} cannot change anything here"
        return ""


def create_app(models_dir=None, host: str = "127.0.0.1") -> Starlette:
    """The studio app. A loopback ``host`` answers only requests addressed to a loopback name, so other
    web sites cannot reach it through DNS rebinding."""
    studio = Studio(models_dir)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        studio.open()
        try:
            yield
        finally:
            studio.close()

    hosts = LOOPBACK_NAMES if host in LOOPBACK_NAMES else ["*"]
    app = Starlette(
        routes=[Route("/", index), Route("/api/models", list_models),
                Route("/api/models/{model_id}", describe_model), Route("/api/primer", primer, methods=["POST"]),
                Route("/api/generate", generate, methods=["POST"]), Route("/api/clip", clip, methods=["POST"]),
                Route("/api/infill", infill, methods=["POST"]), Route("/api/rhythm", from_rhythm, methods=["POST"]),
                Route("/api/taps", taps, methods=["POST"]), Route("/api/live", live_status),
                Route("/api/live/start", live_start, methods=["POST"]),
                Route("/api/live/steer", live_steer, methods=["POST"]),
                Route("/api/live/stop", live_stop, methods=["POST"]),
                Route("/api/files/{name}", download), Mount("/static", StaticFiles(directory=STATIC), name="static")],
        middleware=[Middleware(Guard), Middleware(TrustedHostMiddleware, allowed_hosts=hosts)],
        exception_handlers={SeqgenError: _seqgen_error, HTTPException: _http_error, Exception: _internal_error},
        lifespan=lifespan)
    app.state.studio = studio
    return app
