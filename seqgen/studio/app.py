"""The studio's web server: a Starlette app serving the page and a small JSON API.

Nothing a request names reaches the filesystem except model ids, looked up in the server's own list
(shipped models and the bundles of ``--models``), and result files of the caller's session, named by
ids the server made. Generation runs in a thread pool; each worker thread keeps its own copy of a model
because a model's stepper reuses scratch buffers between steps. Generated tracks pass through the
plugins' ``postprocess_tracks`` hook with the flags of ``seqgen generate``: ticking humanize is
``seqgen generate --humanize``, offered where a plugin adds that flag and accepts the model.
"""

import argparse
import asyncio
import collections
import concurrent.futures
import contextlib
import json
import logging
import math
import os
import re
import secrets
import shutil
import tempfile
import threading

import attrs
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import FileResponse, HTMLResponse, JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from seqgen.errors import SeqgenError
from seqgen.studio import grid

STATIC = os.path.join(os.path.dirname(__file__), "static")
BUNDLE_SUFFIXES = (".seqgen", ".mag")
COOKIE = "seqgen_studio"
LOOPBACK_NAMES = ["127.0.0.1", "localhost"]

MAX_STEPS = 1024  # num_steps, primer included
MAX_OUTPUTS = 32
MAX_BEAM = 16  # beam_size and branch_factor each
MAX_BATCH = 512  # num_outputs * beam_size * branch_factor: rows advanced together each step
MAX_PRIMER_FROM_MIDI = 256  # steps kept of a dropped MIDI file (whole bars)
MAX_UPLOAD = 1 << 20  # bytes of a dropped MIDI file
MAX_JSON = 256 << 10  # bytes of a generate request
MAX_SESSIONS = 64
MAX_RESULTS = 256  # tracks kept per session; the oldest files go first
CSP = "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; object-src 'none'; base-uri 'none'"
RESULT_NAME = re.compile(r"[0-9a-f]{16}\.(mid|wav)")

log = logging.getLogger("seqgen.studio")


@attrs.define
class Session:
    """One browser's output folder and the results it may download (file stem -> download name)."""

    folder: str
    results: collections.OrderedDict = attrs.Factory(collections.OrderedDict)


class Studio:
    """The server's state: model list and cache, worker threads, and session folders."""

    def __init__(self, models_dir=None):
        self.models_dir = models_dir
        self._models = {}
        self._lock = threading.Lock()
        self._local = threading.local()
        self._sessions = collections.OrderedDict()
        self.executor = self.root = self.soundfont = None

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
        self.executor.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.root, ignore_errors=True)

    async def run(self, function, *args):
        """``function(*args)`` in the worker pool."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    # Models

    def catalog(self) -> dict:
        """``{model id: what to load}``: shipped models that generate, by name (the default of `seqgen generate`
        first), then ``--models`` bundles by file name."""
        from seqgen import plugins
        from seqgen.loading import shipped_models

        configs = plugins.configs().values()
        generative = {path for config in configs if config.family.generative for path in config.pretrained}
        defaults = {config.default_bundle for config in configs if config.default}
        shipped = sorted(shipped_models().items(), key=lambda item: item[1] not in defaults)
        found = {name: name for name, path in shipped if path in generative}
        if self.models_dir:
            for name in sorted(os.listdir(self.models_dir)):
                path = os.path.join(self.models_dir, name)
                if name.endswith(BUNDLE_SUFFIXES) and os.path.isfile(path):
                    found[name] = path
        return found

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

    def generate_args(self, humanize: bool):
        """What ``seqgen generate`` (with plugins' flags) parses from no flags, or from ``--humanize``; None
        when no plugin adds --humanize."""
        from seqgen import plugins

        parser = argparse.ArgumentParser()
        plugins.commands()["generate"].add_arguments(parser)
        plugins.extend_command("generate", parser)
        args, unknown = parser.parse_known_args(["--humanize"] if humanize else [])
        return None if unknown else args

    def why_not_humanized(self, model) -> str:
        """Why the model's tracks cannot be humanized; empty when they can."""
        from seqgen import plugins

        args = self.generate_args(humanize=True)
        if args is None:
            return "no installed plugin offers humanize"
        try:
            plugins.postprocess_tracks(args, model, [])
        except SeqgenError as error:
            return str(error)
        return ""

    # Sessions

    def session(self, request, create=False) -> tuple:
        """``(session, token)`` of the caller: its own, or a new one when ``create`` (its token is for the
        answer's cookie; None for an existing session)."""
        token = request.cookies.get(COOKIE, "")
        if token in self._sessions:
            self._sessions.move_to_end(token)
            return self._sessions[token], None
        if not create:
            raise HTTPException(404, "this browser has no results yet; generate some first")
        while len(self._sessions) >= MAX_SESSIONS:
            shutil.rmtree(self._sessions.popitem(last=False)[1].folder, ignore_errors=True)
        token = secrets.token_hex(16)
        self._sessions[token] = Session(os.path.join(self.root, token))
        os.mkdir(self._sessions[token].folder)
        return self._sessions[token], token

    def keep(self, session: Session, stem: str, download_name: str) -> None:
        session.results[stem] = download_name
        while len(session.results) > MAX_RESULTS:
            old = session.results.popitem(last=False)[0]
            for suffix in (".mid", ".wav"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(os.path.join(session.folder, old + suffix))


# Request values


def _shown(value) -> str:
    return "nothing" if value is None else str(value)[:40]


def _whole(body, name, default, low, high):
    value = body.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise SeqgenError(f"{name} must be a whole number from {low} to {high}, got {_shown(value)}")
    return value


def _number(body, name, default, low, high):
    value = body.get(name, default)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not (
            math.isfinite(value) and low < value <= high):
        raise SeqgenError(f"{name} must be a number above {low} and at most {high}, got {_shown(value)}")
    return float(value)


GENERATE_FIELDS = {"model", "num_steps", "num_outputs", "temperature", "seed", "beam_size", "branch_factor",
                   "steps_per_iteration", "qpm", "humanize", "primer", "cells"}


@attrs.frozen
class Job:
    """A checked generate request."""

    model: str
    num_steps: int
    num_outputs: int
    temperature: float
    seed: object
    beam_size: int
    branch_factor: int
    steps_per_iteration: int
    qpm: float
    humanize: bool
    primer: object  # primer text, or None
    cells: object  # grid cells, or None

    @classmethod
    def from_body(cls, body):
        if not isinstance(body, dict):
            raise SeqgenError("the request must be a JSON object")
        unknown = sorted(set(body) - GENERATE_FIELDS)
        if unknown:
            raise SeqgenError(f"unknown field {unknown[0][:40]!r}; known: {', '.join(sorted(GENERATE_FIELDS))}")
        if not isinstance(body.get("model"), str):
            raise SeqgenError("model must be the id of a model from /api/models")
        seed = body.get("seed")
        if seed is not None:
            seed = _whole(body, "seed", None, 0, 2 ** 63 - 1)
        if not isinstance(body.get("humanize", False), bool):
            raise SeqgenError("humanize must be true or false")
        if body.get("primer") is not None and body.get("cells") is not None:
            raise SeqgenError("give the primer as text or as cells, not both")
        if not isinstance(body.get("primer", ""), (str, type(None))):
            raise SeqgenError("primer must be text in the model's notation")
        job = cls(body["model"], _whole(body, "num_steps", 128, 1, MAX_STEPS),
                  _whole(body, "num_outputs", 1, 1, MAX_OUTPUTS), _number(body, "temperature", 1.0, 0, 10),
                  seed, _whole(body, "beam_size", 1, 1, MAX_BEAM), _whole(body, "branch_factor", 1, 1, MAX_BEAM),
                  _whole(body, "steps_per_iteration", 1, 1, MAX_STEPS), _number(body, "qpm", 120.0, 19, 400),
                  body.get("humanize", False), body.get("primer"), body.get("cells"))
        if job.num_outputs * job.beam_size * job.branch_factor > MAX_BATCH:
            raise SeqgenError(f"num_outputs x beam_size x branch_factor is "
                              f"{job.num_outputs * job.beam_size * job.branch_factor}; at most {MAX_BATCH}")
        return job


async def _body(request, limit: int) -> bytes:
    """The request body; 413 as soon as it passes ``limit`` bytes."""
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


def _description(studio: Studio, model_id: str) -> dict:
    model = studio.model(model_id)
    config, rows = model.config, grid.rows(model.config)
    primer = model.primer() if config.tracks.default_primer is not None else None
    not_humanized = studio.why_not_humanized(model)
    return {"id": model_id, "config": config.id, "plugin": config.plugin,
            "description": model.description or config.description, "noun": config.tracks.noun,
            "plural": config.tracks.plural,
            "steps_per_quarter": config.steps_per_quarter,
            "rows": [{"label": label, "pitches": list(pitches), "drum": _plays_drum(config, pitches[0])}
                     for label, pitches in rows],
            "default_primer": None if primer is None else {
                "text": config.tracks.format_events(primer),
                "cells": grid.events_to_cells(primer, rows) if rows else None},
            "humanize": not not_humanized, "humanize_note": not_humanized}


def _plays_drum(config, pitch: int) -> bool:
    """Whether the config's tracks play ``pitch`` as a drum (the page picks a sound for each row)."""
    return all(note.is_drum for note in config.tracks.notes([frozenset({pitch})], config.steps_per_quarter, 120.0))


def _notes(track) -> list:
    """``[[start, end, pitch, velocity, is_drum]]`` (seconds) of what the track plays."""
    config = track.config
    return [[round(note.start, 4), round(note.end, 4), note.pitch, note.velocity, note.is_drum]
            for note in config.tracks.notes(track.events, config.steps_per_quarter, track.qpm)]


def _generate(studio: Studio, job: Job, folder: str) -> list:
    """Generate the tracks of ``job``, write them as MIDI files into ``folder``; ``[(stem, result json)]``."""
    from seqgen import plugins

    model = studio.worker_model(job.model)
    rows = grid.rows(model.config)
    if job.cells is not None:
        if not rows:
            raise SeqgenError(f"{model.config.id} has no grid; give the primer as text")
        primer = grid.cells_to_events(job.cells, rows)
    else:
        primer = model.primer(job.primer or None)
    if len(primer) > job.num_steps:
        raise SeqgenError(f"the primer has {len(primer)} steps, more than num_steps {job.num_steps}; ask for at "
                          f"least {len(primer)} steps")
    args = studio.generate_args(job.humanize)
    if args is None:
        raise SeqgenError("no installed plugin offers humanize; untick it")
    tracks = model.generate(job.num_outputs, job.num_steps, primer, job.temperature, job.seed, job.beam_size,
                            job.branch_factor, job.steps_per_iteration, job.qpm)
    results = []
    for track in plugins.postprocess_tracks(args, model, tracks):
        stem = secrets.token_hex(8)
        track.write_midi(os.path.join(folder, stem + ".mid"))
        results.append((stem, {"id": stem, "steps": len(track), "primer_steps": len(primer),
                               "text": track.config.tracks.format_events(track.events), "notes": _notes(track),
                               "cells": grid.events_to_cells(track.events, rows) if rows else None}))
    return results


def _primer_from_midi(model, path) -> dict:
    config, rows = model.config, grid.rows(model.config)
    found = config.tracks.primer_from_midi(path, config)
    events, notices = found.events, [found.notice] if found.notice else []
    if len(events) > MAX_PRIMER_FROM_MIDI:
        bars = max(1, MAX_PRIMER_FROM_MIDI // found.steps_per_bar)
        events = events[:bars * found.steps_per_bar]
        notices.append(f"kept the first {bars} bars of {math.ceil(len(found.events) / found.steps_per_bar)}")
    return {"steps": len(events), "qpm": found.qpm, "steps_per_bar": found.steps_per_bar,
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
        return HTMLResponse(file.read(), headers={"Content-Security-Policy": CSP})


async def list_models(request):
    studio = request.app.state.studio
    catalog = await studio.run(studio.catalog)
    return JSONResponse({
        "models": [{"id": model_id, "shipped": source == model_id} for model_id, source in catalog.items()],
        "wav": studio.soundfont is not None,
        "limits": {"num_steps": MAX_STEPS, "num_outputs": MAX_OUTPUTS, "beam_size": MAX_BEAM,
                   "branch_factor": MAX_BEAM, "batch": MAX_BATCH, "upload_bytes": MAX_UPLOAD}})


async def describe_model(request):
    studio, model_id = request.app.state.studio, request.path_params["model_id"]
    return JSONResponse(await studio.run(_description, studio, model_id))


async def primer(request):
    studio = request.app.state.studio
    model_id = request.query_params.get("model")
    studio.source(model_id)
    data = await _body(request, MAX_UPLOAD)
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
    try:
        body = json.loads(await _body(request, MAX_JSON))
    except (ValueError, UnicodeDecodeError):
        raise SeqgenError("the request must be a JSON object") from None
    job = Job.from_body(body)
    studio.source(job.model)
    session, token = studio.session(request, create=True)
    found = await studio.run(_generate, studio, job, session.folder)
    for n, (stem, _) in enumerate(found, 1):
        studio.keep(session, stem, f"{os.path.splitext(job.model)[0]}_{stem[:6]}_{n}")
    return _answer({"results": [result for _, result in found]}, token)


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


async def _seqgen_error(request, error):
    return JSONResponse({"error": str(error)}, status_code=400)


async def _http_error(request, error):
    return JSONResponse({"error": error.detail}, status_code=error.status_code, headers=error.headers)


async def _internal_error(request, error):
    return JSONResponse({"error": f"the studio failed ({type(error).__name__}: {str(error)[:200]}); "
                                  f"see the terminal running seqgen studio"}, status_code=500)


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
                Route("/api/generate", generate, methods=["POST"]), Route("/api/files/{name}", download),
                Mount("/static", StaticFiles(directory=STATIC), name="static")],
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=hosts)],
        exception_handlers={SeqgenError: _seqgen_error, HTTPException: _http_error, Exception: _internal_error},
        lifespan=lifespan)
    app.state.studio = studio
    return app
