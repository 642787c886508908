"""Generate tracks from a trained model and write them as MIDI files.

The model comes from --bundle_file (a .seqgen bundle, a Magenta .mag or a shipped model's name), --run_dir
(the plugin, config and hparams are read from its run.json) or --checkpoint_file; with none of them, from
the pretrained model a config ships. Each output extends the primer (the config's default primer unless
--primer or --primer_midi gives one) to exactly --num_steps steps, the primer included. With --save_generator_bundle, the model is written to
--bundle_file instead, as one self-describing file that `seqgen generate --bundle_file` needs alone.
"""

import datetime
import os

from seqgen.commands import add_config_arguments, non_negative_int, positive_float, positive_int
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
    parser.add_argument("--bundle_file", help="a .seqgen bundle, a Magenta .mag bundle or a shipped model's name")
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
    primer.add_argument("--primer", help="primer as text in the plugin's notation (default: the config's own)")
    primer.add_argument("--primer_midi", help="primer from a MIDI file")
    parser.add_argument("--qpm", type=positive_float, help="tempo of the output (default: the primer MIDI's, else 120)")
    parser.add_argument("--temperature", type=positive_float, default=1.0,
                        help="above 1 more random, below 1 less (default 1.0)")
    parser.add_argument("--beam_size", type=positive_int, default=1, help="beams kept per output (default 1)")
    parser.add_argument("--branch_factor", type=positive_int, default=1,
                        help="continuations sampled per beam each iteration (default 1)")
    parser.add_argument("--steps_per_iteration", type=positive_int, default=1,
                        help="steps each beam search iteration adds (default 1)")
    parser.add_argument("--seed", type=non_negative_int, help="random seed: the same seed gives the same output")
    parser.add_argument("--save_generator_bundle", action="store_true",
                        help="write the model to --bundle_file instead of generating")
    parser.add_argument("--bundle_description", default="", help="description stored in the saved bundle")
    parser.add_argument("--render", action="store_true",
                        help="also write a WAV (FluidSynth) and a PNG picture beside each MIDI file")
    parser.add_argument("--soundfont", help="General MIDI .sf2 soundfont for --render (default: an installed one)")


def load_model(args):
    """The :class:`seqgen.model.Model` the flags name (the shipped default when they name none)."""
    import seqgen

    given = [flag for flag in ("bundle_file", "run_dir", "checkpoint_file") if getattr(args, flag)]
    if len(given) > 1:
        raise SeqgenError(f"give only one of --{' and --'.join(given)}")
    if getattr(args, "hparams", ""):
        raise SeqgenError("--hparams cannot change a trained model; the bundle or run dir records its own")
    from seqgen.loading import default_config

    source = args.bundle_file or args.run_dir or args.checkpoint_file
    model = seqgen.load(source or default_config(args.config, args.plugin).default_bundle)
    if args.config and args.config != model.config.id:
        raise SeqgenError(f"the model is a {model.config.id} model, not {args.config}; drop --config or pass "
                          f"another model")
    return model


def _primer(args, config):
    """(events, qpm) from --primer / --primer_midi / the config's default primer."""
    if args.primer_midi:
        found = config.tracks.primer_from_midi(args.primer_midi, config)
        if found.notice:
            print(found.notice)
        return found.events, args.qpm or found.qpm
    text = args.primer or config.tracks.default_primer
    if text is None:
        raise SeqgenError(f"{config.id} has no default primer; give one with --primer")
    return config.tracks.parse_primer(text), args.qpm or 120.0


def _write_midi(tracks, output_dir) -> list:
    """Write one MIDI file per track under a name no earlier run used; the paths written."""
    if os.path.exists(output_dir) and not os.path.isdir(output_dir):
        raise SeqgenError(f"--output_dir {output_dir} is a file; give a directory")
    try:
        os.makedirs(output_dir, exist_ok=True)
    except OSError as error:
        raise SeqgenError(f"cannot create --output_dir {output_dir}: {error.strerror}; choose a writable place") from None
    stem = datetime.datetime.now().strftime("%Y-%m-%d_%H%M%S")
    taken = set(os.listdir(output_dir))
    run = 1
    while any(name.startswith(f"{stem}_{run}_") for name in taken):
        run += 1
    digits = len(str(len(tracks)))
    paths = []
    for i, track in enumerate(tracks, 1):
        path = os.path.join(output_dir, f"{stem}_{run}_{i:0{digits}d}.mid")
        track.write_midi(path)
        paths.append(path)
    return paths


def postprocess(args, model, tracks) -> list:
    """The tracks after every plugin's ``postprocess_tracks`` hook, each given the previous one's."""
    from seqgen import plugins

    for implementation in plugins.manager().hook.postprocess_tracks.get_hookimpls():
        changed = implementation.function(args=args, model=model, tracks=tracks)
        if changed is not None:
            tracks = list(changed)
    return tracks


def run(args) -> int:
    single_blas_thread()
    if args.save_generator_bundle:
        if not args.bundle_file or not (args.run_dir or args.checkpoint_file):
            raise SeqgenError("--save_generator_bundle writes --bundle_file from --run_dir or --checkpoint_file; "
                              "give both")
        import seqgen

        model = seqgen.load(args.run_dir or args.checkpoint_file)
        model.save(args.bundle_file, args.bundle_description)
        print(f"wrote bundle {args.bundle_file} ({model.config.plugin}/{model.config.id}, {model.config.model})")
        return 0
    if args.render:
        from seqgen import render

        render.find_fluidsynth()
        render.find_soundfont(args.soundfont)
    from seqgen.progress import Progress

    model = load_model(args)
    config = model.config
    primer, qpm = _primer(args, config)
    with Progress(max(0, args.num_steps - len(primer)), "generate", unit="step") as progress:
        tracks = model.generate(args.num_outputs, args.num_steps, primer, args.temperature, args.seed,
                                args.beam_size, args.branch_factor, args.steps_per_iteration, qpm, progress.update)
    tracks = postprocess(args, model, tracks)
    paths = _write_midi(tracks, args.output_dir)
    noun = config.tracks.noun + ("s" if len(paths) > 1 else "")
    print(f"wrote {len(paths)} {noun} of {args.num_steps} steps to {args.output_dir}: "
          + (os.path.basename(paths[0]) + (f" .. {os.path.basename(paths[-1])}" if len(paths) > 1 else "")))
    if args.render:
        drawn_by = getattr(tracks[0], "config", config)  # a plugin's postprocessing may bring its own drawing
        written = render.render_outputs(paths, drawn_by, soundfont=args.soundfont)
        kinds = [os.path.splitext(path)[1][1:].upper() for path in written]
        print("wrote " + " and ".join(f"{kinds.count(kind)} {kind}" for kind in ("WAV", "PNG") if kind in kinds)
              + " files beside them")
    return 0
