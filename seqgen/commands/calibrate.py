"""Match how often a model rests on each step of the bar to its data's rests: a calibrated bundle.

Samples the model --from in rounds and fits one number per step of the bar, added to the logit of its
no-event class (a drum step with no drum, a rest), so that its tracks rest where and as often as the tracks
of --sequence_example_file (its training records) do, or those of --midi (MIDI files or folders of them, read
with the model's config, as `seqgen adapt` reads them). Writes the model with that calibration to
--bundle_file; it generates, infills and scores with it wherever it is loaded (docs/models.md, "Calibrated
rests"). A model sampled on its own can drift this way from what it learned; the weights are not changed.
"""

from seqgen.commands import bounded_int, positive_int, record_files
from seqgen.errors import SeqgenError


def add_arguments(parser) -> None:
    parser.add_argument(
        "--from",
        dest="model",
        required=True,
        metavar="MODEL",
        help="the model to calibrate: a shipped model's name, a bundle, a run directory or a checkpoint",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--sequence_example_file",
        nargs="+",
        metavar="FILE",
        help="record files (or globs) of the tracks to match: the model's training records",
    )
    source.add_argument(
        "--midi", nargs="+", metavar="FILES_OR_DIR", help="or MIDI files, or folders of them (searched to any depth)"
    )
    parser.add_argument("--bundle_file", required=True, help="the calibrated bundle to write, e.g. mine.seqgen")
    parser.add_argument("--rounds", type=positive_int, default=12, help="rounds of sampling (default 12)")
    parser.add_argument("--outputs", type=positive_int, default=500, help="tracks sampled per round (default 500)")
    parser.add_argument("--num_steps", type=positive_int, default=128, help="steps per sampled track (default 128)")
    parser.add_argument(
        "--seed", type=bounded_int(0, 2**32 - 1, "a non-negative integer below 2**32"), default=0, help="first seed"
    )


def run(args) -> int:
    import os

    import attrs

    import seqgen
    from seqgen import calibration
    from seqgen.paths import check_output_file

    check_output_file(args.bundle_file, "--bundle_file")
    if os.path.exists(args.bundle_file):
        raise SeqgenError(f"{args.bundle_file} already exists; choose another --bundle_file or remove it first")
    model = seqgen.load(args.model)
    if not model.family.generative:
        raise SeqgenError(f"{args.model} does not generate tracks; give a model that seqgen generate can play")
    if model.guidance_base is not None:
        raise SeqgenError(
            f"{args.model} plays its guidance base {model.guidance_base.name} when no control is set and adds its "
            f"controls' effect to it; calibrate {model.guidance_base.name} instead"
        )
    steps_per_bar = model.config.steps_per_quarter * 4
    if args.num_steps < 2 * steps_per_bar:
        raise SeqgenError(f"--num_steps must hold two bars ({2 * steps_per_bar} steps) or more, got {args.num_steps}")
    encoding = model.config.encoding
    tracks, origin = _tracks(args, model.config)
    tracks = [track for track in tracks if len(track) >= steps_per_bar]
    if not tracks:
        raise SeqgenError(f"no track of {origin} is a bar ({steps_per_bar} steps) or longer; give longer tracks")
    before = calibration.rest_rates(_sampled(model, args), encoding.no_event_class, steps_per_bar).mean()

    def log(round_, target, sampled):
        print(f"round {round_}/{args.rounds}: rests on {sampled:.3f} of the steps (the records: {target:.3f})")

    fitted = calibration.fit(model, tracks, args.rounds, args.outputs, args.num_steps, args.seed + 1, log)
    calibrated = attrs.evolve(model, calibration=fitted)
    after = calibration.rest_rates(_sampled(calibrated, args), encoding.no_event_class, steps_per_bar).mean()
    calibrated.save(
        args.bundle_file,
        "; ".join(filter(None, [model.description, f"rests calibrated on {len(tracks)} tracks of {origin}"])),
    )
    target = calibration.rest_rates(tracks, encoding.no_event_class, steps_per_bar).mean()
    print(
        f"wrote {args.bundle_file}: {args.outputs} tracks rest on {after:.3f} of their steps (before: "
        f"{before:.3f}; the records: {target:.3f})"
    )
    return 0


def _tracks(args, config) -> tuple:
    """(the class sequences of the tracks to match, what they came from) of --sequence_example_file or --midi."""
    import os
    import tempfile

    from seqgen.evaluation import read_class_sequences

    if args.sequence_example_file:
        files = record_files(args.sequence_example_file, config.encoding.num_classes)
        return read_class_sequences(files, config.encoding.num_classes), ", ".join(map(os.path.basename, files))
    from seqgen import adapting

    by_file = adapting.read_tracks(adapting.midi_files(args.midi), config)
    with tempfile.TemporaryDirectory() as folder:
        path = adapting.write_records(folder, "tracks", [record for found in by_file.values() for record in found])
        return read_class_sequences([path], config.encoding.num_classes), f"{len(by_file)} MIDI files"


def _sampled(model, args) -> list:
    """The classes of ``args.outputs`` tracks the model plays alone from seed ``args.seed``."""
    tracks = model.generate(num_outputs=args.outputs, num_steps=args.num_steps, seed=args.seed, guidance_base=False)
    return [model.config.encoding.events_to_classes(track.events) for track in tracks]
