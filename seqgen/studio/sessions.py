"""The studio's state: the models it offers (shipped ones and the bundles inside ``--models``) and their cache,
each worker thread's own copy of a model (a stepper reuses scratch buffers), the worker pool, and the browsers'
sessions (an output folder each, named by a cookie; old sessions and results are dropped).
"""

import asyncio
import collections
import concurrent.futures
import contextlib
import logging
import os
import secrets
import shutil
import tempfile
import threading
import time

import attrs
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from seqgen.errors import SeqgenError
from seqgen.studio.live import LiveDesk


log = logging.getLogger("seqgen.studio")


BUNDLE_SUFFIXES = (".seqgen", ".mag")
COOKIE = "seqgen_studio"
MAX_SESSIONS = 256
SESSION_KEEP = 3600.0  # seconds a session's results are kept after its last request
MAX_RESULTS = 256  # files kept per session; the oldest go first


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
        watcher = asyncio.ensure_future(disconnected(request))
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
                if (
                    name.endswith(BUNDLE_SUFFIXES)
                    and os.path.commonpath([root, path]) == root
                    and os.path.isfile(path)
                    and self._generates(path)
                ):
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
                    raise SeqgenError(
                        f"{model_id} is a {model.config.model} model, which does not generate "
                        f"tracks; choose another model"
                    )
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
            raise HTTPException(
                404,
                f"no model {str(name)[:80]!r} plays to taps here; choose one of "
                f"{', '.join(found) or 'none (no plugin offers one)'}",
            )
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
            raise HTTPException(
                503,
                f"the studio is keeping the results of {MAX_SESSIONS} other browsers for "
                f"{SESSION_KEEP / 3600:g} hour after their last use; try again later",
            )
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


async def disconnected(request) -> None:
    """Returns when the client of ``request`` (whose body has been read) disconnects."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def answer(content, token) -> JSONResponse:
    """A JSON answer that sets the session cookie when ``token`` is a new session's."""
    response = JSONResponse(content)
    if token:
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
    return response
