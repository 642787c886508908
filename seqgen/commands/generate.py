"""Generate tracks from a trained model and write them as MIDI files.

The model comes from --bundle_file (a .seqgen bundle or a Magenta .mag), --run_dir (the plugin, config
and hparams are read from its run.json) or --checkpoint_file; with none of them, from the pretrained
bundle a config ships. Each output extends the primer (one bass drum hit by default) to exactly
--num_steps steps, the primer included. With --save_generator_bundle, the model is written to
--bundle_file instead, as one self-describing file that `seqgen generate --bundle_file` needs alone.
"""

import datetime
import os

from seqgen.commands import add_config_arguments, positive_int
from seqgen.errors import SeqgenError

BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def single_blas_thread() -> None:
    """Use one BLAS thread unless the user chose a number (call before NumPy is imported).

    Generation multiplies batch-sized matrices one step at a time: a second thread gains little when
    the machine is idle and stalls every step when another process holds a core (10x slower, measured).
    """
    if not any(name in os.environ for name in BLAS_THREAD_VARIABLES):
        os.environ["OPENBLAS_NUM_THREADS"] = "1"


def add_model_arguments(parser) -> None:
    """--bundle_file, --run_dir, --checkpoint_file and --plugin/--config (for a shipped model)."""
    add_config_arguments(parser, config_required=False)
    parser.add_argument("--bundle_file", help="a .seqgen bundle or a Magenta .mag bundle")
    parser.add_argument("--run_dir", help="a training run directory (its latest checkpoint is used)")
    parser.add_argument("--checkpoint_file", help="one checkpoint of a training run")


def add_arguments(parser) -> None:
    add_model_arguments(parser)
    parser.add_argument("--output_dir", default="generated",
                        help="where the MIDI files go (created if missing; default ./generated)")
    parser.add_argument("--num_outputs", type=positive_int, default=10, help="how many tracks (default 10)")
    parser.add_argument("--num_steps", type=positive_int, default=128,
                        help="length of each track in steps, the primer included (default 128)")
    primer = parser.add_mutually_exclusive_group()
    primer.add_argument("--primer_drums", "--primer", dest="primer_drums",
                        help='primer as text, e.g. "[(36, 42), (), (42,)]" (default: the plugin\'s own; '
                             'one bass drum hit for drums)')
    primer.add_argument("--primer_midi", help="primer from a MIDI file (drums on channel 10)")
    parser.add_argument("--qpm", type=float, help="tempo of the output (default: the primer MIDI's, else 120)")
    parser.add_argument("--temperature", type=float, default=1.0,
                        help="above 1 more random, below 1 less (default 1.0)")
    parser.add_argument("--beam_size", type=positive_int, default=1, help="beams kept per output (default 1)")
    parser.add_argument("--branch_factor", type=positive_int, default=1,
                        help="continuations sampled per beam each iteration (default 1)")
    parser.add_argument("--steps_per_iteration", type=positive_int, default=1,
                        help="steps each beam search iteration adds (default 1)")
    parser.add_argument("--seed", type=int, help="random seed: the same seed gives the same output")
    parser.add_argument("--save_generator_bundle", action="store_true",
                        help="write the model to --bundle_file instead of generating")
    parser.add_argument("--bundle_description", default="", help="description stored in the saved bundle")
    parser.add_argument("--render", action="store_true",
                        help="also write a WAV (FluidSynth) and a PNG drum grid beside each MIDI file")
    parser.add_argument("--soundfont", help="General MIDI .sf2 soundfont for --render (default: an installed one)")


def _default_bundle(args) -> str:
    from seqgen import plugins

    if args.config:
        configs = [plugins.get_config(args.config, args.plugin)]
    else:
        configs = [c for c in plugins.configs().values() if c.default_bundle]
    shipped = [c for c in configs if c.default_bundle]
    if len(shipped) == 1:
        return shipped[0].default_bundle
    if len(shipped) > 1:
        raise SeqgenError(f"several configs ship a pretrained model ({', '.join(sorted(c.id for c in shipped))}); "
                          f"choose one with --config")
    which = f"config {args.config!r} ships none" if args.config else "no installed config ships one"
    raise SeqgenError(f"no model given, and {which} pretrained; pass --bundle_file, --run_dir or "
                      f"--checkpoint_file")


def load_model(args):
    """(config, weights, description) of the model the flags name."""
    from seqgen import bundle

    given = [flag for flag in ("bundle_file", "run_dir", "checkpoint_file") if getattr(args, flag)]
    if len(given) > 1:
        raise SeqgenError(f"give only one of --{' and --'.join(given)}")
    if getattr(args, "hparams", ""):
        raise SeqgenError("--hparams cannot change a trained model; the bundle or run dir records its own")
    if args.run_dir or args.checkpoint_file:
        from seqgen import run_dir

        config, weights = run_dir.load_weights(run_dir=args.run_dir, checkpoint_file=args.checkpoint_file)
        return config, weights, ""
    loaded = bundle.load(args.bundle_file or _default_bundle(args))
    if args.config and args.config != loaded.config.id:
        raise SeqgenError(f"the bundle holds a {loaded.config.id} model, not {args.config}; "
                          f"drop --config or pass another bundle")
    return loaded.config, loaded.weights, loaded.description


def _primer(args, config):
    """(events, qpm) from --primer_drums / --primer_midi / the default primer."""
    if args.primer_midi:
        found = config.tracks.primer_from_midi(args.primer_midi, config)
        if found.notice:
            print(found.notice)
        return found.events, args.qpm or found.qpm
    text = args.primer_drums or config.tracks.default_primer
    if text is None:
        raise SeqgenError(f"{config.id} has no default primer; give one with --primer")
    return config.tracks.parse_primer(text), args.qpm or 120.0


def _write_midi(tracks, config, qpm, output_dir) -> list:
    """Write one MIDI file per track under a name no earlier run used; the paths written."""
    from seqgen.noteseq import midi_io

    os.makedirs(output_dir, exist_ok=True)
    stem = datetime.datetime.now().strftime("%Y-%m-%d_%H%M%S")
    taken = set(os.listdir(output_dir))
    run = 1
    while any(name.startswith(f"{stem}_{run}_") for name in taken):
        run += 1
    digits = len(str(len(tracks)))
    paths = []
    for i, events in enumerate(tracks, 1):
        path = os.path.join(output_dir, f"{stem}_{run}_{i:0{digits}d}.mid")
        midi = midi_io.note_sequence_to_pretty_midi(
            config.tracks.to_note_sequence(events, config.steps_per_quarter, qpm))
        with open(path, "xb") as f:  # never replaces a file
            midi.write(f)
        paths.append(path)
    return paths


def run(args) -> int:
    single_blas_thread()
    if args.save_generator_bundle:
        if not args.bundle_file or not (args.run_dir or args.checkpoint_file):
            raise SeqgenError("--save_generator_bundle writes --bundle_file from --run_dir or --checkpoint_file; "
                              "give both")
        from seqgen import bundle, run_dir

        config, weights = run_dir.load_weights(run_dir=args.run_dir, checkpoint_file=args.checkpoint_file)
        bundle.save(args.bundle_file, config, weights, args.bundle_description)
        print(f"wrote bundle {args.bundle_file} ({config.plugin}/{config.id})")
        return 0
    if args.qpm is not None and args.qpm <= 0:
        raise SeqgenError(f"--qpm must be positive, got {args.qpm}")
    if args.render:
        from seqgen import render

        render.find_fluidsynth()
        render.find_soundfont(args.soundfont)
    from seqgen.progress import Progress
    from seqgen.sampling import RNNGenerator

    config, weights, _ = load_model(args)
    primer, qpm = _primer(args, config)
    generator = RNNGenerator(config, weights)
    with Progress(max(0, args.num_steps - len(primer)), "generate", unit="step") as progress:
        tracks = generator.generate(primer, args.num_steps, args.num_outputs, args.temperature, args.beam_size,
                                    args.branch_factor, args.steps_per_iteration, args.seed, progress.update)
    paths = _write_midi(tracks, config, qpm, args.output_dir)
    noun = config.tracks.noun + ("s" if len(paths) > 1 else "")
    print(f"wrote {len(paths)} {noun} of {args.num_steps} steps to {args.output_dir}: "
          + (os.path.basename(paths[0]) + (f" .. {os.path.basename(paths[-1])}" if len(paths) > 1 else "")))
    if args.render:
        written = render.render_outputs(paths, config, soundfont=args.soundfont)
        kinds = [os.path.splitext(path)[1][1:].upper() for path in written]
        print("wrote " + " and ".join(f"{kinds.count(kind)} {kind}" for kind in ("WAV", "PNG") if kind in kinds)
              + " files beside them")
    return 0
