"""The studio's web server: a Starlette app serving the page and a small JSON API; its routes are here.

The parts, one concern each: :mod:`.guard` (only same-origin requests change anything), :mod:`.sessions` (the
models offered and cached, the worker pool, each browser's session folder), :mod:`.checks` (what a request may
ask, in the page's words), :mod:`.actions` (the music each request makes, in the worker threads),
:mod:`.song` (the arrangement lane's routes) and :mod:`.live` (the Live panel's drummer and routes).

Nothing a request names reaches the filesystem except model ids, looked up in the server's own list
(shipped models and the bundles inside ``--models``), and result files of the caller's session, named by
ids the server made. Generation stops between steps when its client has gone. Generated tracks pass through
the plugins' ``postprocess_tracks`` hook with the flags of ``seqgen generate`` that the switches the plugins
declare (``generate_options``) stand for. Tapped rhythms become takes through the models the plugins offer for
them (the ``rhythm_models`` hook).
"""

import contextlib
import hashlib
import logging
import mimetypes
import os
import re
import secrets

import attrs
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from seqgen.errors import SeqgenError
from seqgen.studio import grid
from seqgen.studio.actions import (
    description,
    generate_takes,
    infill_takes,
    primer_from_midi,
    rhythm_takes,
    taps_from_midi,
    write_clip,
)
from seqgen.studio.checks import (
    CLIP_FIELDS,
    INFILL_FIELDS,
    MAX_BATCH,
    MAX_BEAM,
    MAX_OUTPUTS,
    MAX_PRIMER_FROM_MIDI,
    MAX_STEPS,
    MAX_TAP_SECONDS,
    MAX_TAPS,
    MAX_UPLOAD,
    MAX_WORK,
    QPM,
    RHYTHM_FIELDS,
    SWING,
    TEMPERATURE,
    Clip,
    Job,
    check_fields,
    json_body,
    read_body,
)
from seqgen.studio import live, song
from seqgen.studio.guard import Guard
from seqgen.studio.sessions import ClientGone, Session, Studio, answer


log = logging.getLogger("seqgen.studio")

STATIC = os.path.join(os.path.dirname(__file__), "static")
# The page's scripts are ES modules, which a browser runs only when served as JavaScript; the type StaticFiles
# guesses comes from the system's tables, which on some (a Windows registry) say text/plain for .js.
mimetypes.add_type("text/javascript", ".js")
LOOPBACK_NAMES = ["127.0.0.1", "localhost"]
MAX_ERROR = 300  # characters of an error message
RESULT_NAME = re.compile(r"[0-9a-f]{16}\.(mid|wav)")


# Routes


async def index(request):
    with open(os.path.join(STATIC, "index.html"), encoding="utf-8") as file:
        return HTMLResponse(file.read())


async def list_models(request):
    studio = request.app.state.studio
    catalog = await studio.run(studio.catalog)
    return JSONResponse(
        {
            "models": [{"id": model_id, "shipped": source == model_id} for model_id, source in catalog.items()],
            "wav": studio.soundfont is not None,
            "rhythm_models": list(studio.rhythm_models()),
            "limits": {
                "steps": MAX_STEPS,
                "num_outputs": MAX_OUTPUTS,
                "beam_size": MAX_BEAM,
                "branch_factor": MAX_BEAM,
                "batch": MAX_BATCH,
                "work": MAX_WORK,
                "upload_bytes": MAX_UPLOAD,
                "temperature": TEMPERATURE,
                "qpm": QPM,
                "swing": SWING,
                "primer_from_midi": MAX_PRIMER_FROM_MIDI,
                "taps": MAX_TAPS,
                "tap_seconds": MAX_TAP_SECONDS,
            },
        }
    )


async def describe_model(request):
    studio, model_id = request.app.state.studio, request.path_params["model_id"]
    return JSONResponse(await studio.run(description, studio, model_id))


async def primer(request):
    studio = request.app.state.studio
    model_id = request.query_params.get("model")
    studio.source(model_id)
    data = await read_body(request, MAX_UPLOAD, "audio/midi")
    if not data:
        raise SeqgenError("the upload is empty; drop a MIDI file")
    session, token = studio.session(request, create=True)
    path = os.path.join(session.folder, f"upload-{secrets.token_hex(8)}.mid")
    with open(path, "wb") as file:
        file.write(data)
    try:
        model = await studio.run(studio.model, model_id)
        found = await studio.run(primer_from_midi, model, path)
    except SeqgenError as error:  # its message names the server's temporary file
        message = str(error).replace(f"primer MIDI file {path}", "the dropped MIDI file")
        raise SeqgenError(message.replace(path, "the dropped file")) from None
    finally:
        os.remove(path)
    return answer(found, token)


async def generate(request):
    studio = request.app.state.studio
    job = Job.from_body(await json_body(request))
    studio.source(job.model)
    session, token = studio.session(request, create=True)
    try:
        found = await studio.run_for(request, generate_takes, studio, job, session.folder)
    except ClientGone:
        log.info("a generate request was abandoned by its client; stopped")
        return Response(status_code=499)
    return _kept(studio, session, token, job.model, found)


async def infill(request):
    """New takes from a take with the chosen bars (and rows) regenerated; the take itself is kept."""
    studio = request.app.state.studio
    return await _new_takes(request, INFILL_FIELDS, studio.source, infill_takes)


async def from_rhythm(request):
    """A new take played to tapped rhythm by a model a plugin offers (the ``rhythm_models`` hook)."""
    studio = request.app.state.studio
    return await _new_takes(request, RHYTHM_FIELDS, studio.rhythm_model, rhythm_takes)


async def taps(request):
    """The onsets of a dropped MIDI file as taps, for a model that plays to taps (nothing is kept)."""
    data = await read_body(request, MAX_UPLOAD, "audio/midi")
    if not data:
        raise SeqgenError("the upload is empty; drop a MIDI file")
    return JSONResponse(await request.app.state.studio.run(taps_from_midi, data))


async def _new_takes(request, fields: set, find_model, make) -> JSONResponse:
    """The answer to a JSON request of ``fields`` for new takes: its model looked up by ``find_model`` (404
    when unknown), then ``make(studio, body, folder)`` (``[(stem, result json)]``) run in the pool."""
    studio = request.app.state.studio
    body = await json_body(request)
    check_fields(body, fields)
    find_model(body["model"])
    session, token = studio.session(request, create=True)
    found = await studio.run(make, studio, body, session.folder)
    return _kept(studio, session, token, body["model"], found)


def _kept(studio: Studio, session: Session, token, model_id: str, found) -> JSONResponse:
    """The answer listing the results ``found`` (``[(stem, result json)]``), kept in the session."""
    for n, (stem, _) in enumerate(found, 1):
        studio.keep(session, stem, f"{os.path.splitext(model_id)[0]}_{stem[:6]}_{n}")
    return answer({"results": [result for _, result in found]}, token)


async def clip(request):
    """A take as the page plays it (painted velocities, swing, timing) as a MIDI file of the session."""
    studio = request.app.state.studio
    body = await json_body(request)
    check_fields(body, CLIP_FIELDS)
    model = await studio.run(studio.model, body["model"])
    rows = grid.rows(model.config)
    if not rows:
        raise SeqgenError(f"{model.config.id} has no grid; download its takes as generated")
    job = Clip.from_body(body, len(rows))
    session, token = studio.session(request, create=True)
    stem = hashlib.sha256(repr(attrs.astuple(job)).encode()).hexdigest()[:16]
    path = os.path.join(session.folder, stem + ".mid")
    if not os.path.exists(path):
        await studio.run(write_clip, model, job, path)
    studio.keep(session, stem, f"{os.path.splitext(job.model)[0]}_take_{stem[:6]}")
    return answer({"id": stem}, token)


async def download(request):
    studio, name = request.app.state.studio, request.path_params["name"]
    session, _ = studio.session(request)
    stem, suffix = os.path.splitext(name)
    if not RESULT_NAME.fullmatch(name) or stem not in session.results:
        raise HTTPException(404, f"no result {name[:40]!r} in this browser's session")
    path = os.path.join(session.folder, name)
    if suffix == ".wav":
        if studio.soundfont is None:
            raise HTTPException(404, "WAV downloads need a General MIDI soundfont: apt-get install timgm6mb-soundfont")
        if not os.path.exists(path):
            from seqgen import render

            await studio.run(render.render_wav, path[:-4] + ".mid", path, studio.soundfont)
    return FileResponse(
        path, filename=session.results[stem] + suffix, media_type="audio/midi" if suffix == ".mid" else "audio/wav"
    )


def _cut(message: str) -> str:
    """One line of at most MAX_ERROR characters."""
    line = " ".join(str(message).split())
    return line if len(line) <= MAX_ERROR else line[: MAX_ERROR - 1] + "…"


async def _seqgen_error(request, error):
    return JSONResponse({"error": _cut(error)}, status_code=400)


async def _http_error(request, error):
    return JSONResponse({"error": _cut(error.detail)}, status_code=error.status_code, headers=error.headers)


async def _internal_error(request, error):
    return JSONResponse(
        {
            "error": _cut(
                f"the studio failed ({type(error).__name__}: {str(error)[:200]}); "
                f"see the terminal running seqgen studio"
            )
        },
        status_code=500,
    )


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
        routes=[
            Route("/", index),
            Route("/api/models", list_models),
            Route("/api/models/{model_id}", describe_model),
            Route("/api/primer", primer, methods=["POST"]),
            Route("/api/generate", generate, methods=["POST"]),
            Route("/api/clip", clip, methods=["POST"]),
            Route("/api/infill", infill, methods=["POST"]),
            Route("/api/rhythm", from_rhythm, methods=["POST"]),
            Route("/api/taps", taps, methods=["POST"]),
            *song.ROUTES,
            *live.ROUTES,
            Route("/api/files/{name}", download),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[Middleware(Guard), Middleware(TrustedHostMiddleware, allowed_hosts=hosts)],
        exception_handlers={SeqgenError: _seqgen_error, HTTPException: _http_error, Exception: _internal_error},
        lifespan=lifespan,
    )
    app.state.studio = studio
    return app
