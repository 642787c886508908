"""The studio's Live panel: one model at a time playing bar by bar (seqgen.live) to the virtual MIDI port
``seqgen`` and/or an OSC receiver, started, steered and stopped from the page. The drummer has its own copy of
the model (a model's stepper reuses scratch buffers, so it generates in one thread only). Its routes are at the
end (``ROUTES``, which the app registers)."""

import logging
import threading

import attrs
from starlette.responses import JSONResponse
from starlette.routing import Route

from seqgen.errors import SeqgenError
from seqgen.studio import checks

log = logging.getLogger("seqgen.studio")
STOP_WAIT = 5.0  # seconds a stop waits for the playing thread


class LiveDesk:
    """The drummer the page plays: :meth:`start`, :meth:`steer`, :meth:`stop`, :meth:`status`."""

    def __init__(self):
        self._lock = threading.Lock()
        self._player = self._thread = self._steering = self._model = None
        self._model_id, self._targets, self._error = None, [], ""

    def start(self, model, model_id: str, bpm: float, controls: dict, midi: bool, osc: str) -> dict:
        """Play ``model`` at ``bpm`` steered by ``controls`` to the virtual MIDI port (``midi``) and/or the OSC
        receiver ``osc`` ("host:port", or empty); whatever played before stops first."""
        from seqgen.live import ports
        from seqgen.live.clock import Clock
        from seqgen.live.drummer import Drummer
        from seqgen.live.player import Player
        from seqgen.live.steering import Steering

        self.stop()
        model = attrs.evolve(model)  # the drummer's own copy
        model.generator.control_tokens(controls)  # bad controls are refused before anything plays
        if not midi and not osc:
            raise SeqgenError("choose where the notes go: the MIDI port, an OSC host:port, or both")
        outputs = []
        try:
            if osc:
                try:
                    target = ports.osc_target(osc)
                except ValueError as error:
                    raise SeqgenError(f"OSC: {error}") from None
                outputs.append(ports.OscOut(*target, say=log.warning))
            if midi:
                outputs.append(ports.MidiOut(ports.VIRTUAL_NAME, virtual=True))
        except SeqgenError:
            for output in outputs:
                output.close()
            raise
        steering = Steering(controls)
        player = Player(Clock(bpm), Drummer(model, steering, realtime=True), outputs, say=log.info)
        thread = threading.Thread(target=self._play, args=(player, outputs), name="seqgen-studio-live", daemon=True)
        with self._lock:
            self._player, self._thread, self._steering, self._model = player, thread, steering, model
            self._model_id, self._targets, self._error = model_id, [output.name for output in outputs], ""
        thread.start()
        return self.status()

    def _play(self, player, outputs) -> None:
        from seqgen.live.realtime import PLAYER, realtime

        realtime(PLAYER)
        try:
            player.play()
        except SeqgenError as error:
            self._error = str(error)
        except Exception as error:  # noqa: BLE001  (shown on the page; the terminal has the traceback)
            log.exception("the Live panel's drummer failed")
            self._error = f"the drummer failed ({type(error).__name__}: {error})"
        finally:
            for output in outputs:
                output.close()

    def steer(self, controls: dict) -> dict:
        """Change the controls of the next bars (a fill: the next bar only)."""
        with self._lock:
            steering, model = self._steering, self._model
        if steering is None or not self.playing:
            raise SeqgenError("nothing is playing; press Start first")
        steering.change(controls, model.controls)
        return self.status()

    def stop(self) -> dict:
        with self._lock:
            player, thread = self._player, self._thread
        if player is not None:
            player.stop()
            thread.join(STOP_WAIT)
        return self.status()

    @property
    def playing(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def status(self) -> dict:
        with self._lock:
            player = self._player
            return {
                "playing": self.playing,
                "model": self._model_id,
                "to": list(self._targets),
                "bars": len(player.played) if player else 0,
                "late_bars": player.late_bars if player else 0,
                "bpm": player.clock.bpm if player else None,
                "error": self._error,
            }


LIVE_FIELDS = {"model", "qpm", "controls", "midi", "osc"}
MAX_OSC = 300  # characters of an OSC host:port


async def live_status(request):
    return JSONResponse(request.app.state.studio.live.status())


async def live_start(request):
    """The Live panel's Start: the model plays bar by bar to the virtual MIDI port and/or an OSC receiver."""
    studio = request.app.state.studio
    body = await checks.json_body(request)
    checks.check_fields(body, LIVE_FIELDS)
    qpm = checks.number(body, "qpm", 120.0, *checks.QPM)
    midi, osc = body.get("midi", True), body.get("osc") or ""
    if not isinstance(midi, bool) or not isinstance(osc, str) or len(osc) > MAX_OSC:
        raise SeqgenError(f"midi must be true or false, osc a host:port of at most {MAX_OSC} characters")
    model = await studio.run(studio.model, body["model"])
    return JSONResponse(
        await studio.run(studio.live.start, model, body["model"], qpm, checks.controls_of(body), midi, osc.strip())
    )


async def live_steer(request):
    """The Live panel's knobs: the controls of the next bars."""
    body = await checks.json_body(request)
    if not isinstance(body, dict) or set(body) != {"controls"}:
        raise SeqgenError('the request must be {"controls": {name: value}}')
    studio = request.app.state.studio
    return JSONResponse(await studio.run(studio.live.steer, checks.controls_of(body)))


async def live_stop(request):
    studio = request.app.state.studio
    return JSONResponse(await studio.run(studio.live.stop))


ROUTES = [
    Route("/api/live", live_status),
    Route("/api/live/start", live_start, methods=["POST"]),
    Route("/api/live/steer", live_steer, methods=["POST"]),
    Route("/api/live/stop", live_stop, methods=["POST"]),
]
