"""Play generated tracks in real time, bar by bar, to a MIDI port or an OSC receiver, in time with a DAW.

A virtual MIDI output port named `seqgen` (or an existing port, --midi_out) gets note-ons and note-offs;
--osc HOST:PORT gets /seqgen/note [pitch, velocity, seconds], /seqgen/bar [bar from 1] and /seqgen/tempo
[bpm]. Each bar is generated while the one before plays, continuing what was played. The tempo is --bpm, a
MIDI clock's (--clock_in PORT), or an Ableton Link session's (--link, with its beat phase: the link extra);
--cc maps incoming MIDI to the model's controls for the next bars. --form plays a song form (as seqgen
song's: each section's bars with its controls, a fill into each change, a crash on each section's first
step) and sends /seqgen/section [name, bar]. It plays --bars bars, the form's, or until Ctrl+C, which
silences every note. Needs the live extra: pip install "seqgen-music[live]". See docs/live.md.
"""

import argparse
import copy
import gc
import os
import sys
import time

import attrs

from seqgen.commands import add_model_arguments, _number, positive_int, seed_number, temperature
from seqgen.commands.song import section_controls, song_controls
from seqgen.errors import SeqgenError

DEFAULT_BPM = 120.0
#: Seconds --link waits for the peers of a session to be found (on a local network, half a second).
LINK_JOIN = 1.5
#: While a bar is generated in the background, the player's thread gets the interpreter within this many
#: seconds (Python's default, 5 ms, would move notes by as much).
SWITCH_INTERVAL = 0.0002


def add_arguments(parser) -> None:
    add_model_arguments(parser)
    parser.add_argument(
        "--bpm",
        type=_bpm,
        help=f"tempo in beats per minute, 20 to 400 (default {DEFAULT_BPM:g}, or "
        f"--control tempo; with --clock_in, the clock's; with --link, the "
        f"session's, and this proposes one to it)",
    )
    parser.add_argument(
        "--bars",
        type=positive_int,
        help="stop after this many bars (default: the --form's bars, else play until Ctrl+C)",
    )
    parser.add_argument(
        "--primer",
        help="what the first bar continues, as text in the plugin's notation (default: the config's own primer)",
    )
    parser.add_argument(
        "--control",
        action="append",
        type=section_controls,
        default=[],
        metavar="[SECTION:]NAME=VALUE,...",
        help="steer a model that has controls, e.g. --control style=funk,density=12; with --form, one "
        "section: --control verse:density=14 (`seqgen configs` lists each config's controls)",
    )
    parser.add_argument(
        "--form",
        help='play a song form, sections as name:bars, e.g. "intro:4 verse:8 chorus:8 '
        "outro:4\" (as seqgen song's; sends /seqgen/section [name, bar] over OSC)",
    )
    parser.add_argument(
        "--fills",
        choices=("yes", "no"),
        help="with --form, a fill in the last bar of each section but the last (default: where the model can)",
    )
    parser.add_argument(
        "--temperature", type=temperature, default=1.0, help="above 1 more random, below 1 less (default 1.0)"
    )
    parser.add_argument(
        "--seed",
        type=seed_number,
        help="random seed: the same seed plays the same bars",
    )
    _add_outputs(parser)
    _add_steering(parser)
    _add_call_and_response(parser)
    parser.add_argument("--save_midi", metavar="FILE.mid", help="also write what was played to this MIDI file")


def _add_outputs(parser) -> None:
    """Where the notes go."""
    where = parser.add_argument_group("where the notes go (default: a virtual MIDI port named seqgen)")
    where.add_argument("--midi_out", metavar="PORT", help="an existing MIDI output port, by name (--list_ports)")
    where.add_argument(
        "--virtual_port",
        metavar="NAME",
        nargs="?",
        const="seqgen",
        help="a virtual MIDI output port a DAW records from (default name seqgen; made when no "
        "other destination is given)",
    )
    where.add_argument("--osc", type=_osc, metavar="HOST:PORT", help="send OSC messages to this UDP receiver")
    where.add_argument("--list_ports", action="store_true", help="list the MIDI ports there are, and stop")


def _add_steering(parser) -> None:
    """What the drummer follows and what steers it while it plays."""
    steer = parser.add_argument_group("following and steering")
    steer.add_argument(
        "--clock_in",
        metavar="PORT",
        help="follow the MIDI clock (start, stop, continue, song position) of this input port",
    )
    steer.add_argument(
        "--link",
        action="store_true",
        help="join an Ableton Link session and follow its tempo and beat phase, a bar being 4 beats "
        "(needs the link extra)",
    )
    steer.add_argument(
        "--cc",
        metavar="NAME=CC,...",
        help="map incoming MIDI to controls, e.g. density=1,fill=64,style=program (a CC number, 'program' or noteN)",
    )
    steer.add_argument(
        "--midi_in",
        metavar="PORT",
        help="the input port --cc reads (default: a virtual input port named 'seqgen in'; "
        "--clock_in's port when given)",
    )


def _add_call_and_response(parser) -> None:
    """Answering what is played to it."""
    listen = parser.add_argument_group("call and response")
    listen.add_argument(
        "--listen",
        metavar="PORT",
        nargs="?",
        const="",
        help="listen to a pad or keyboard on this input port (alone: the virtual 'seqgen in') for "
        "--listen_bars bars, answer with as many bars of drums that follow what was played, "
        "and listen again",
    )
    listen.add_argument("--listen_bars", type=positive_int, default=2, help="bars of each call and answer (default 2)")
    listen.add_argument(
        "--answer",
        metavar="MODEL",
        help="the model that answers: one a plugin offers for tapped rhythms (default: the first)",
    )


def _bpm(text: str) -> float:
    return _number(float, text, lambda v: 20 <= v <= 400, "a tempo from 20 to 400 beats per minute")


def _osc(text: str) -> tuple:
    from seqgen.live.ports import osc_target

    try:
        return osc_target(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _list_ports() -> int:
    from seqgen.live.ports import backend_name, port_names

    outputs, inputs = port_names()
    print(f"MIDI ports ({backend_name()}):")
    print("outputs (--midi_out): " + (", ".join(repr(name) for name in outputs) or "none"))
    print("inputs (--clock_in, --midi_in): " + (", ".join(repr(name) for name in inputs) or "none"))
    return 0


def _postprocess(args, model):
    """Each bar as the plugins' ``postprocess_tracks`` hooks leave it (e.g. drums' --humanize), seeded per bar."""
    from seqgen import plugins

    def apply(track, number):
        bar_args = copy.copy(args)
        if args.seed is not None:
            bar_args.seed = (args.seed + number) % 2**63
        return plugins.postprocess_tracks(bar_args, model, [track])[0]

    apply(model.generate(1, model.config.steps_per_quarter * 4, seed=0)[0], 0)  # bad plugin flags refused now
    return apply


def _outputs(args, stack) -> list:
    from seqgen.live.ports import MidiOut, OscOut

    outputs = []
    if args.osc:
        outputs.append(stack.enter(OscOut(*args.osc, say=_say)))
    if args.midi_out:
        outputs.append(stack.enter(MidiOut(args.midi_out)))
    if args.virtual_port or not outputs:
        outputs.append(stack.enter(MidiOut(args.virtual_port or "seqgen", virtual=True)))
    return outputs


class _Closing:
    """Ports closed in reverse order however the command ends."""

    def __init__(self):
        self.ports = []

    def enter(self, port):
        self.ports.append(port)
        return port

    def close(self):
        for port in reversed(self.ports):
            port.close()


def run(args) -> int:
    if args.list_ports:
        return _list_ports()
    _check_flags(args)
    plan = _plan(args)
    closing = _Closing()
    try:
        clock, player, stopped = _play(args, plan, closing)
    finally:
        closing.close()
    _say(
        f"seqgen live: played {_bars(len(player.played))}{stopped}"
        + (f"; {_bars(player.late_bars)} generated late" if player.late_bars else "")
    )
    if args.save_midi and player.played:
        _save(args.save_midi, player.played, clock.bpm if args.clock_in or args.link else plan.bpm)
    return 0


def _check_flags(args) -> None:
    """Flags that do not go together, and a --save_midi file there is already, refused in one line."""
    if args.save_midi:
        from seqgen.paths import check_output_file

        check_output_file(args.save_midi, "--save_midi")
        if os.path.exists(args.save_midi):
            raise SeqgenError(f"--save_midi {args.save_midi} already exists; choose another file or remove it first")
    if args.link and args.clock_in:
        raise SeqgenError("--link and --clock_in are two masters to follow; give one of them")
    if args.midi_in and not args.cc:
        raise SeqgenError("--midi_in is the port --cc reads; give --cc too (e.g. --cc density=1)")
    if args.listen is None and (args.answer or args.listen_bars != 2):
        raise SeqgenError("--answer and --listen_bars set how --listen answers; add --listen")
    if args.listen is not None and (args.cc or args.control or args.form):
        raise SeqgenError(
            "with --listen the answers follow what is played, and take no --control, --cc or --form; drop them"
        )


@attrs.frozen
class _Plan:
    """What is played, all of it checked before anything plays."""

    model: object
    sections: list | None  # the --form's, each with its controls
    form: object  # a seqgen.live.form.Form, or None
    bars: int | None  # None: until Ctrl+C
    bpm: float
    mappings: list  # --cc's
    steering: object
    call_and_response: object  # --listen's, or None
    postprocess: object  # the plugins' postprocessing of each bar, or None


def _plan(args) -> _Plan:
    """The model and what steers it from ``args``; bad controls, primers or plugin flags refused in one line."""
    from seqgen.live.steering import Steering, parse
    from seqgen.loading import load_model

    by_section, controls = song_controls(args.control)
    sections = _sections(args, by_section, controls)
    model = load_model(args)
    if not model.family.generative:
        raise SeqgenError(f"a {model.config.model} model does not generate tracks; give a model that does")
    model.generator.control_tokens(controls)  # bad controls are refused before anything plays
    form = _form(args, model, sections)
    if form is not None:
        controls = dict(sections[0].controls)
        bars = args.bars or len(form)
    else:
        bars = args.bars
    mappings = parse(args.cc, model.controls) if args.cc else []
    if args.primer is None and model.config.tracks.default_primer is None:
        raise SeqgenError(f"{model.config.id} has no default primer; give one with --primer")
    model.primer(args.primer)  # a primer it cannot read is refused before anything plays
    bpm = args.bpm or float(controls.get("tempo", DEFAULT_BPM))
    call_and_response = None
    if args.listen is not None:  # the answers are played already: no plugin's postprocessing
        from seqgen.live.listening import CallAndResponse, answer_model

        answer = answer_model(args.answer)
        answer([0.0], [100], bpm, args.temperature, args.seed)  # loaded and ready before anything plays
        call_and_response, postprocess = CallAndResponse(answer, args.listen_bars, args.temperature, args.seed), None
    else:
        postprocess = _postprocess(args, model)
    steering = Steering({} if form is not None else controls, mappings)  # a form's controls are its sections'
    return _Plan(model, sections, form, bars, bpm, mappings, steering, call_and_response, postprocess)


def _play(args, plan: _Plan, closing) -> tuple:
    """Open the clock and ports (closed by ``closing``) and play: ``(clock, player, stopped)``, stopped
    saying how Ctrl+C ended it ("" when it did not)."""
    from seqgen.live.clock import Clock, MidiClock
    from seqgen.live.drummer import Drummer
    from seqgen.live.player import Player
    from seqgen.live.realtime import PLAYER, realtime

    bpm = plan.bpm
    clock = _link(args, bpm, closing) if args.link else MidiClock(bpm) if args.clock_in else Clock(bpm)
    outputs = _outputs(args, closing)
    inputs = _inputs(args, plan, clock, closing)
    sys.setswitchinterval(SWITCH_INTERVAL)
    drummer = Drummer(
        plan.model,
        plan.steering,
        args.temperature,
        args.seed,
        plan.postprocess,
        realtime=True,
        call_and_response=plan.call_and_response,
        primer=args.primer,
        form=plan.form,
    )
    player = Player(clock, drummer, outputs, plan.bars, say=_say, follows=bool(args.clock_in or args.link))
    _say(_playing(args, plan, clock, outputs, inputs))
    gc.freeze()  # what is loaded stays: the collector, run by any thread, walks only what playing makes
    if not realtime(PLAYER):  # this thread plays
        _say(
            "seqgen live: note: no real-time scheduling for this user, so a busy machine may delay notes "
            "(docs/live.md, 'How it keeps time')"
        )
    try:
        player.play()
        return clock, player, ""
    except KeyboardInterrupt:
        return clock, player, " (stopped; every note silenced)"


def _inputs(args, plan: _Plan, clock, closing) -> dict:
    """The MIDI inputs the clock, --cc and --listen follow, each port opened once (closed by ``closing``):
    ``{flag: port}``."""
    from seqgen.live import ports

    opened = {}  # name (None: the virtual 'seqgen in') -> the MidiIn

    def listen(name, flag, listener):
        if name not in opened:
            opened[name] = closing.enter(
                ports.MidiIn(name, flag=flag) if name else ports.MidiIn("seqgen in", virtual=True)
            )
        opened[name].listeners.append(listener)
        return opened[name]

    inputs = {}
    if args.clock_in:
        inputs["--clock_in"] = listen(args.clock_in, "--clock_in", clock.receive)
    if plan.mappings:
        inputs["--midi_in"] = listen(args.midi_in or args.clock_in, "--midi_in", plan.steering.receive)
    if plan.call_and_response:
        inputs["--listen"] = listen(args.listen or None, "--listen", plan.call_and_response.receive)
    return inputs


def _playing(args, plan: _Plan, clock, outputs, inputs) -> str:
    """The line saying what plays where, at which tempo, steered by what, for how long."""
    heard = ", ".join(port.name for port in outputs)
    tempo = f"the MIDI clock of {inputs['--clock_in'].name}" if args.clock_in else f"{plan.bpm:g} bpm"
    if args.link:
        peers = clock.peers()
        tempo = (
            f"the tempo of the Link session ({clock.bpm:g} bpm, {peers} other peer"
            + ("" if peers == 1 else "s")
            + (")" if peers else "; it follows them when they join)")
        )
    steered = ""
    if plan.mappings:
        steered = f"; steering {', '.join(m.describe() for m in plan.mappings)} from {inputs['--midi_in'].name}"
    if plan.call_and_response:
        steered += f"; listening to {inputs['--listen'].name} for {_bars(args.listen_bars)}, then answering"
    if plan.form is not None:
        steered += f"; the form {' '.join(f'{s.name}:{s.bars}' for s in plan.sections)}"
    return f"seqgen live: playing {plan.model.config.id} to {heard} at {tempo}{steered} " + (
        f"for {_bars(plan.bars)}" if plan.bars else "(Ctrl+C stops)"
    )


def _sections(args, by_section, everywhere):
    """The --form's sections (None without one), each with its --control values; one line for what is wrong."""
    from seqgen import form

    if args.form is None:
        if by_section or args.fills:
            flag = f"--control {next(iter(by_section))}:..." if by_section else "--fills"
            raise SeqgenError(f'{flag} is for a song form; add --form (e.g. --form "verse:8 chorus:8") or drop it')
        return None
    sections = form.with_controls(form.parse_form(args.form), by_section)
    return [attrs.evolve(section, controls={**everywhere, **section.controls}) for section in sections]


def _form(args, model, sections):
    """The :class:`~seqgen.live.form.Form` of ``sections`` (None without them); what the model lacks for its
    controls or fills refused in one line, as seqgen song refuses it."""
    from seqgen.live.form import Form

    if sections is None:
        return None
    return Form(model.generator, sections, None if args.fills is None else args.fills == "yes")


def _link(args, bpm, closing):
    """A :class:`~seqgen.live.clock.LinkClock` in the session its peers on the network are in (waiting up to
    :data:`LINK_JOIN` seconds for them), to which ``--bpm`` proposes its tempo."""
    from seqgen.live.clock import LinkClock

    clock = closing.enter(LinkClock(bpm))
    deadline = time.monotonic() + LINK_JOIN
    while not clock.peers() and time.monotonic() < deadline:
        time.sleep(0.02)
    if args.bpm:
        clock.propose(args.bpm)
    clock.refresh()
    return clock


def _bars(count: int) -> str:
    return f"{count} bar" + ("" if count == 1 else "s")


def _save(path, bars, bpm) -> None:
    from seqgen.model import Track

    first = bars[0].track
    Track([event for bar in bars for event in bar.track.events], first.config, bpm).write_midi(path)
    _say(f"seqgen live: wrote what was played to {path}")
