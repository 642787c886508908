"""Match how often a model rests on each step of the bar, and sounds each part, to its data's: a calibrated bundle.

Samples the model --from in rounds and fits one number per step of the bar, added to the logit of its no-event
class (a drum step with no drum, a rest), and one per part of its encoding (a drum), added to every class that
sounds it, so that its tracks rest where and as often as the tracks of --sequence_example_file (its training
records) do, or those of --midi (MIDI files or folders of them, read with the model's config, as `seqgen adapt`
reads them), and sound each part as often. A model that takes controls is fitted the same way for each value of
each control (a number: each bin) that --min_tracks tracks or more of the records have, against those tracks;
generating with that value set then adds its numbers. Alone (unless its bundle anchors guidance on a base, which
then plays alone) it is fitted against the tracks that hold no value its training never drops (a drum fill).
Writes the model with its calibration to --bundle_file (docs/models.md, "Calibrated rests" and "Calibrated
controls"). A model sampled on its own, or steered, can drift this way from what it learned; the weights are not
changed.
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
    parser.add_argument(
        "--min_tracks", type=positive_int, default=20, help="tracks a control's value needs to be fitted (default 20)"
    )
    parser.add_argument(
        "--controls",
        nargs="+",
        metavar="NAME[=VALUE]",
        help="fit only these controls' values, or with =VALUE only that value (a number: its bin), e.g. style "
        "or style=soul; the others keep their numbers (default: every value of every control)",
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
    controls = _controls(model, args.controls)
    steps_per_bar = model.config.steps_per_quarter * 4
    if args.num_steps < 2 * steps_per_bar:
        raise SeqgenError(f"--num_steps must hold two bars ({2 * steps_per_bar} steps) or more, got {args.num_steps}")
    labelled, origin = _tracks(args, model.config, model.controls)
    labelled = [(track, values) for track, values in labelled if len(track) >= steps_per_bar]
    if not labelled:
        raise SeqgenError(f"no track of {origin} is a bar ({steps_per_bar} steps) or longer; give longer tracks")
    fitted, said = model.calibration or calibration.Calibration(), []
    before = fitted
    if model.guidance_base is None:
        alone = [track for track, values in labelled if not _kept(model.controls, values)]
        fitted = attrs.evolve(fitted, own=_fit(args, model, alone, None, "alone", parts=False))
        said.append(f"alone on {len(alone)} tracks")
    for control, bins in controls:
        for index in bins:
            value = control.values[index] if control.values else (control.edges[index] + control.edges[index + 1]) / 2
            tracks = [track for track, values in labelled if _of(control, index, values, model.controls)]
            if len(tracks) >= args.min_tracks:
                trial = attrs.evolve(model, calibration=fitted)
                offsets = _fit(args, trial, tracks, {control.name: value}, _named(control, index), steps_per_bar)
                fitted = fitted.with_control(control, index, offsets)
        count = sum(offsets is not None for offsets in fitted.controls.get(control.name, ()))
        said.append(f"{count} of {control.num_bins} {'values' if control.values else 'bins'} of {control.name}")
    if fitted == before:  # nothing was fitted
        raise SeqgenError(
            f"no value of {', '.join(c.name for c, _ in controls)} asked for has {args.min_tracks} tracks in "
            f"{origin}; give more tracks, or a smaller --min_tracks"
        )
    calibrated = attrs.evolve(model, calibration=fitted)
    calibrated.save(
        args.bundle_file,
        "; ".join(filter(None, [model.description, f"calibrated on {origin}: {', '.join(said)}"])),
    )
    print(f"wrote {args.bundle_file}: calibrated {', '.join(said)}")
    return 0


def _controls(model, names) -> list:
    """``[(control, bins to fit)]`` (``--controls``: NAME for all its values or bins, NAME=VALUE for that value or
    the bin of that number, checked; default every bin of every control)."""
    known = {control.name: control for control in model.controls}
    if names is None:
        return [(control, range(control.num_bins)) for control in model.controls]
    chosen: dict = {}
    for item in names:
        name, equals, value = item.partition("=")
        if name not in known:
            takes = ", ".join(known) or "none"
            raise SeqgenError(f"{model.config.id} takes no control {name} (its controls: {takes}); fix --controls")
        control = known[name]
        bins = chosen.setdefault(name, set())
        bins.update([control.bin(control.check(value))] if equals else range(control.num_bins))
    return [(known[name], sorted(bins)) for name, bins in chosen.items()]


def _kept(controls, values, but=None) -> bool:
    """Whether ``values`` hold a value its control's training never drops (``Control.kept``), ``but`` aside."""
    return any(control is not but and values.get(control.name) in control.kept for control in controls)


def _of(control, index, values, controls) -> bool:
    """Whether a track of ``values`` has value (or bin) ``index`` of ``control`` and no other control's kept value."""
    value = values.get(control.name)
    return value is not None and control.bin(value) == index and not _kept(controls, values, but=control)


def _named(control, index) -> str:
    if control.values:
        return f"{control.name}={control.values[index]}"
    return f"{control.name} in [{control.edges[index]:g}, {control.edges[index + 1]:g})"


def _fit(args, model, tracks, controls, name, steps_per_bar=None, parts=True):
    """Fitted :class:`seqgen.calibration.Offsets` of ``model`` with ``controls`` set against ``tracks``, logged
    round by round; a control's outputs are as long as its tracks (their median, a whole number of bars, two or
    more), up to --num_steps."""
    import math

    import numpy as np

    from seqgen import calibration

    num_steps = args.num_steps
    if steps_per_bar:
        bars = math.ceil(float(np.median([len(track) for track in tracks])) / steps_per_bar)
        num_steps = min(num_steps, max(2, bars) * steps_per_bar)

    def log(round_, target, sampled):
        print(
            f"{name} ({len(tracks)} tracks), round {round_}/{args.rounds}: rests on {sampled:.3f} of the steps "
            f"(the records: {target:.3f})",
            flush=True,
        )

    return calibration.fit(model, tracks, controls, args.rounds, args.outputs, num_steps, args.seed + 1, log, parts)


def _tracks(args, config, controls) -> tuple:
    """([(classes, {control: value})] of the tracks to match, what they came from) of --sequence_example_file or
    --midi."""
    import os
    import tempfile

    if args.sequence_example_file:
        files = record_files(args.sequence_example_file, config.encoding.num_classes)
        return _labelled(files, config, controls), ", ".join(map(os.path.basename, files))
    from seqgen import adapting

    by_file = adapting.read_tracks(adapting.midi_files(args.midi), config)
    with tempfile.TemporaryDirectory() as folder:
        path = adapting.write_records(folder, "tracks", [record for found in by_file.values() for record in found])
        return _labelled([path], config, controls), f"{len(by_file)} MIDI files"


def _labelled(files, config, controls) -> list:
    """[(classes, {control: value})] of the record files, unset controls left out."""
    import numpy as np

    from seqgen.records import control_dataset

    names = [control.name for control in controls]
    labelled = []
    for classes, numbers in control_dataset(files, config.encoding.num_classes, names).as_numpy_iterator():
        values = {c.name: c.from_record(float(n)) for c, n in zip(controls, numbers)}
        labelled.append((np.asarray(classes, np.int64), {k: v for k, v in values.items() if v is not None}))
    return labelled
