"""Generate tracks from a trained model and write them as MIDI files.

The model comes from --bundle_file (a .seqgen bundle, a Magenta .mag or a shipped model's name), --run_dir
(the plugin, config and hparams are read from its run.json) or --checkpoint_file; with none of them, from
the pretrained model a config ships. Each output extends the primer (the config's default primer unless
--primer or --primer_midi gives one) to exactly --num_steps steps, the primer included. With
--save_generator_bundle, the model is written to --bundle_file instead, as one self-describing file that
`seqgen generate --bundle_file` needs alone.
"""

import os

from seqgen import plugins
from seqgen.commands import (
    add_control_argument,
    add_model_arguments,
    at_most,
    _number,
    positive_int,
    seed_number,
    temperature,
    write_midi_files,
)
from seqgen.errors import SeqgenError
from seqgen.loading import check_model_flags, guidance_base, load_model
from seqgen.tracks import Tracks

#: Most sequences (outputs x beams x branches) and events (sequences x steps) one run holds in memory.
MAX_SEQUENCES = 100_000
MAX_EVENTS = 20_000_000


def add_arguments(parser) -> None:
    add_model_arguments(parser)
    _add_output_arguments(parser)
    add_control_argument(parser)
    _add_sampling_arguments(parser)
    parser.add_argument(
        "--save_generator_bundle", action="store_true", help="write the model to --bundle_file instead of generating"
    )
    parser.add_argument("--bundle_description", default="", help="description stored in the saved bundle")
    parser.add_argument(
        "--render", action="store_true", help="also write a WAV and a PNG picture beside each MIDI file"
    )
    parser.add_argument("--soundfont", help="General MIDI .sf2 soundfont for --render (default: an installed one)")


def _add_output_arguments(parser) -> None:
    """Where the tracks go, how many, how long, from what primer, as loops, at what tempo."""
    parser.add_argument(
        "--output_dir", default="generated", help="where the MIDI files go (created if missing; default ./generated)"
    )
    parser.add_argument("--num_outputs", type=at_most(MAX_SEQUENCES), default=10, help="how many tracks (default 10)")
    parser.add_argument(
        "--num_steps",
        type=at_most(MAX_SEQUENCES),
        default=128,
        help="length of each track in steps, the primer included (default 128)",
    )
    primer = parser.add_mutually_exclusive_group()
    primer.add_argument("--primer", help="primer as text in the plugin's notation (default: the config's own)")
    primer.add_argument("--primer_midi", help="primer from a MIDI file")
    parser.add_argument(
        "--primer_bars", type=positive_int, help="with --primer_midi: take only its first N bars (e.g. of a whole song)"
    )
    parser.add_argument(
        "--loop_bars",
        type=positive_int,
        help="make N-bar loops that loop without a seam (their last bar leads into their first); "
        "instead of --num_steps",
    )
    parser.add_argument(
        "--loop_repeats", type=at_most(1000), help="with --loop_bars: write each loop this many times over (default 1)"
    )
    parser.add_argument("--qpm", type=_qpm, help="tempo of the output (default: the primer MIDI's, else 120)")


def _add_sampling_arguments(parser) -> None:
    """How the tracks are drawn: guidance, temperature, beam search and the seed."""
    parser.add_argument(
        "--guidance",
        type=_guidance,
        default=None,
        help="how strongly --control steers (classifier-free guidance): 1 reads the controls "
        "plainly, more follows them more closely (default with --control: the controls' own, "
        "3 unless the plugin sets less; the largest with several)",
    )
    parser.add_argument(
        "--guidance_base",
        metavar="MODEL",
        help="anchor guidance on this model without controls (a name or bundle file, e.g. the plain model the "
        "controlled one was fine-tuned from): it plays alone with no --control, and --control's effect is added "
        "to what it plays (default: the model's own, if its bundle names one; none: no anchor); with "
        "--save_generator_bundle, the bundle's own (docs/models.md)",
    )
    parser.add_argument(
        "--temperature", type=temperature, default=1.0, help="above 1 more random, below 1 less (default 1.0)"
    )
    parser.add_argument("--beam_size", type=at_most(1000), default=1, help="beams kept per output (default 1)")
    parser.add_argument(
        "--branch_factor",
        type=at_most(1000),
        default=1,
        help="continuations sampled per beam each iteration (default 1)",
    )
    parser.add_argument(
        "--steps_per_iteration", type=positive_int, default=1, help="steps each beam search iteration adds (default 1)"
    )
    parser.add_argument(
        "--seed",
        type=seed_number,
        help="random seed: the same seed gives the same output",
    )


def _qpm(text: str) -> float:
    # A MIDI tempo is 1 to 16,777,215 microseconds per quarter note: 4 qpm is about the slowest it holds.
    return _number(float, text, lambda v: 4 <= v <= 1000, "a positive number from 4 to 1000 (quarter notes per minute)")


def _guidance(text: str) -> float:
    return _number(float, text, lambda v: 0 <= v <= 10, "a number from 0 to 10")


def _check_size(args) -> None:
    sequences = args.num_outputs * args.beam_size * args.branch_factor
    if sequences > MAX_SEQUENCES or sequences * args.num_steps > MAX_EVENTS:
        raise SeqgenError(
            f"--num_outputs {args.num_outputs} x --beam_size {args.beam_size} x --branch_factor "
            f"{args.branch_factor} sequences of --num_steps {args.num_steps} are more than one run "
            f"holds in memory ({MAX_SEQUENCES} sequences, {MAX_EVENTS} steps in all); lower them, "
            f"or run several times"
        )


def _primer(args, config):
    """(events, qpm) from --primer / --primer_midi (its first --primer_bars bars) / the config's default primer."""
    if args.primer_bars and not args.primer_midi:
        raise SeqgenError("--primer_bars needs --primer_midi (it takes the first bars of that file)")
    if args.primer_midi:
        from seqgen.paths import check_input_file

        check_input_file(args.primer_midi, "--primer_midi", "MIDI file")
        if type(config.tracks).primer_from_midi is Tracks.primer_from_midi:
            raise SeqgenError(
                f"{config.id} cannot read MIDI files (its plugin's Tracks does not implement "
                f"primer_from_midi); give the primer as text with --primer"
            )
        found = config.tracks.primer_from_midi(args.primer_midi, config)
        if found.notice:
            print(found.notice)
        events, bar = found.events, found.steps_per_bar
        if args.primer_bars:
            events = events[: args.primer_bars * bar]
        if len(events) > args.num_steps:
            bars, fit = -(-len(events) // bar), args.num_steps // bar
            hint = (
                f"take its first bars with --primer_bars {fit}"
                if fit
                else f"one bar is {bar} steps: ask for --num_steps {bar} or more and take --primer_bars 1"
            )
            raise SeqgenError(
                f"the primer in {args.primer_midi} is {len(events)} steps ({bars} bars of {bar} steps), "
                f"longer than --num_steps {args.num_steps}; {hint}, or raise --num_steps above "
                f"{len(events)}"
            )
        return events, args.qpm or found.qpm
    text = args.primer if args.primer is not None else config.tracks.default_primer
    if text is None:
        raise SeqgenError(f"{config.id} has no default primer; give one with --primer")
    return config.tracks.parse_primer(text), args.qpm or 120.0


def run(args) -> int:
    if args.save_generator_bundle:
        return _save_bundle(args)
    from seqgen.paths import check_output_dir

    _check_size(args)
    if args.loop_repeats and not args.loop_bars:
        raise SeqgenError("--loop_repeats repeats a loop; add --loop_bars N")
    if args.loop_bars and args.beam_size * args.branch_factor > 1:
        raise SeqgenError("--loop_bars samples its loops; leave out --beam_size and --branch_factor")
    check_output_dir(args.output_dir, "--output_dir")
    if args.render:
        from seqgen import render

        render.find_soundfont(args.soundfont)
    model = load_model(args)
    config = model.config
    primer, qpm = _primer(args, config)
    if args.control:
        model.generator.control_tokens(args.control)  # bad controls are refused before any work
        if "tempo" in args.control and not args.qpm and not args.primer_midi:
            qpm = float(args.control["tempo"])  # a tempo control plays at that tempo
    tracks = plugins.postprocess_tracks(args, model, _tracks(args, model, primer, qpm))
    paths = write_midi_files(tracks, args.output_dir)
    print(
        f"wrote {config.tracks.count(len(paths))} of {args.num_steps} steps to {args.output_dir}: "
        + (os.path.basename(paths[0]) + (f" .. {os.path.basename(paths[-1])}" if len(paths) > 1 else ""))
    )
    if args.render:
        _render(args, paths, getattr(tracks[0], "config", config))  # postprocessing may bring its own drawing
    return 0


def _save_bundle(args) -> int:
    """``--save_generator_bundle``: the model of ``--run_dir`` or ``--checkpoint_file`` written as a bundle."""
    if not args.bundle_file or not (args.run_dir or args.checkpoint_file):
        raise SeqgenError("--save_generator_bundle writes --bundle_file from --run_dir or --checkpoint_file; give both")
    import seqgen
    from seqgen.paths import check_output_file

    check_output_file(args.bundle_file, "--bundle_file")
    if os.path.exists(args.bundle_file):  # refused before the model is read
        raise SeqgenError(f"{args.bundle_file} already exists; choose another --bundle_file or remove it first")
    check_model_flags(args)
    model = seqgen.load(args.run_dir or args.checkpoint_file)
    model.save(args.bundle_file, args.bundle_description, guidance_base(args.guidance_base) or None)
    print(f"wrote bundle {args.bundle_file} ({model.config.plugin}/{model.config.id}, {model.config.model})")
    return 0


def _tracks(args, model, primer, qpm) -> list:
    """The tracks the flags ask for: loops (``--loop_bars``, setting ``args.num_steps`` to their length), or
    generated with a progress bar."""
    from seqgen.progress import Progress

    if args.loop_bars and args.guidance_base:
        raise SeqgenError("--guidance_base steers plain generation; drop it or --loop_bars")
    if args.loop_bars:
        tracks = model.loop(
            args.loop_bars,
            args.loop_repeats or 1,
            args.num_outputs,
            primer,
            args.temperature,
            args.seed,
            qpm,
            args.control,
            args.guidance,
        )
        args.num_steps = len(tracks[0])
        return tracks
    with Progress(max(0, args.num_steps - len(primer)), "generate", unit="step") as progress:
        return model.generate(
            args.num_outputs,
            args.num_steps,
            primer,
            args.temperature,
            args.seed,
            args.beam_size,
            args.branch_factor,
            args.steps_per_iteration,
            qpm,
            progress.update,
            args.control,
            args.guidance,
            guidance_base(args.guidance_base),
        )


def _render(args, paths, drawn_by) -> None:
    """``--render``: a WAV and a PNG beside each MIDI file, and a line saying so."""
    from seqgen import render
    from seqgen.disk_full import kept_before

    with kept_before(f"the {len(paths)} MIDI files written before, and the WAV and PNG files rendered before"):
        written = render.render_outputs(paths, drawn_by, soundfont=args.soundfont)
    kinds = [os.path.splitext(path)[1][1:].upper() for path in written]
    print(
        "wrote "
        + " and ".join(f"{kinds.count(kind)} {kind}" for kind in ("WAV", "PNG") if kind in kinds)
        + " files beside them"
    )
