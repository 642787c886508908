"""Subcommands of ``seqgen``: each module here has ``add_arguments(parser)`` and ``run(args)``.

They are registered by :mod:`seqgen.default_plugin` through the ``register_commands`` hook, like a
plugin's commands. Shared argument helpers live here.
"""

import argparse
import datetime
import importlib
import math
import os
import pkgutil
import typing

import attrs

from seqgen.errors import SeqgenError


@attrs.frozen
class Command:
    """One ``seqgen`` subcommand, registered with the ``register_commands`` hook.

    ``seqgen NAME ...`` builds an ``argparse`` subparser with ``help`` (its line in ``seqgen --help``)
    and ``description`` (the top of ``seqgen NAME --help``), calls ``add_arguments(parser)`` to add the
    command's flags (other plugins may then add theirs through ``extend_command``), parses the command
    line and calls ``run(args)`` with the ``argparse.Namespace``. ``run`` returns the exit code (None
    means 0). A :class:`seqgen.errors.SeqgenError` it raises is printed as one line,
    ``seqgen NAME: error: ...``, with exit code 1; so is a missing TensorFlow or note-seq, with how to
    install the training extra. Import heavy modules inside ``run``, so ``seqgen --help`` stays fast.
    :func:`from_module` makes a Command from a module with a docstring, ``add_arguments`` and ``run``.
    """

    name: str
    help: str
    add_arguments: typing.Callable
    run: typing.Callable
    description: str = ""


def from_module(name: str, module) -> Command:
    """A Command from a module with a docstring, ``add_arguments`` and ``run``."""
    doc = (module.__doc__ or "").strip()
    return Command(name, doc.splitlines()[0] if doc else "", module.add_arguments, module.run, doc)


def builtin_commands() -> list:
    """seqgen's own commands, one per module of this package."""
    return [
        from_module(info.name, importlib.import_module(f"{__name__}.{info.name}"))
        for info in pkgutil.iter_modules(__path__)
    ]


def add_config_arguments(parser, config_required=True) -> None:
    """``--plugin``, ``--config`` and ``--hparams``, with Magenta's flag names."""
    parser.add_argument("--plugin", help="plugin that provides the config (optional: config ids are unique)")
    parser.add_argument("--config", required=config_required, help="config id, e.g. drum_kit")
    parser.add_argument(
        "--hparams", default="", help='hyperparameter overrides, e.g. "batch_size=64,rnn_layer_sizes=[64,64]"'
    )


def add_model_arguments(parser) -> None:
    """--bundle_file, --run_dir, --checkpoint_file and --plugin/--config (for a shipped model)."""
    add_config_arguments(parser, config_required=False)
    parser.add_argument("--bundle_file", help="a .seqgen bundle, a Magenta .mag bundle or a shipped model's name")
    parser.add_argument("--run_dir", help="a training run directory (its latest checkpoint is used)")
    parser.add_argument("--checkpoint_file", help="one checkpoint of a training run")


def config_from_args(args):
    """The Config named by ``--plugin/--config`` with ``--hparams`` applied."""
    from seqgen import plugins

    return plugins.get_config(args.config, args.plugin).with_hparams(args.hparams)


RECORDS_HINT = "give training records from `seqgen create_dataset` (or Magenta's)"


def record_files(patterns, num_classes: int = None) -> list:
    """The record files that paths or globs name, each checked before TensorFlow reads it: a TFRecord file
    (framing and checksums: a MIDI, text or truncated file is refused), of training examples (not
    NoteSequences), and not all empty. With ``num_classes``, the classes must fit the config."""
    from seqgen import records, tfrecord
    from seqgen.errors import SeqgenError

    files = records.expand_paths(patterns)
    total = 0
    for path in files:
        count = tfrecord.check_file(path, hint=RECORDS_HINT)
        if count:
            first = tfrecord.first_record(path, hint=RECORDS_HINT)
            if b"\n\x07classes" not in first and b"\n\x06labels" not in first:
                raise SeqgenError(
                    f"{path} holds no training examples (it looks like NoteSequences or other "
                    f"records): NoteSequences from `seqgen convert` become training records "
                    f"with `seqgen create_dataset`"
                )
            if num_classes is not None:
                records.detect_format(path, num_classes)
        total += count
    if not total:
        raise SeqgenError(f"no records in {' '.join(files)} (empty record files); {RECORDS_HINT}")
    return files


def _number(kind, text: str, ok, expected: str):
    try:
        value = kind(text)
    except (ValueError, OverflowError):
        value = None
    if value is None or (kind is float and not math.isfinite(value)) or not ok(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    return _number(int, text, lambda v: v > 0, "a positive integer")


def non_negative_int(text: str) -> int:
    return _number(int, text, lambda v: v >= 0, "a non-negative integer")


def positive_float(text: str) -> float:
    return _number(float, text, lambda v: v > 0, "a positive number")


def non_negative_float(text: str) -> float:
    return _number(float, text, lambda v: v >= 0, "a non-negative number")


def ratio(text: str) -> float:
    """A fraction in [0, 1), e.g. --eval_ratio."""
    return _number(float, text, lambda v: 0 <= v < 1, "a number in [0, 1)")


def bounded_int(low: int, high: int, expected: str = None):
    """An argparse type: an integer in [low, high]; ``expected`` says what, e.g. 'a sample rate in Hz'."""
    expected = expected or f"an integer from {low} to {high}"

    def parse(text: str) -> int:
        return _number(int, text, lambda v: low <= v <= high, expected)

    return parse


def at_most(high: int):
    """An argparse type: a positive integer up to ``high`` (a bound that keeps memory in reach)."""

    def parse(text: str) -> int:
        value = positive_int(text)
        if value > high:
            raise argparse.ArgumentTypeError(f"expected at most {high}, got {text!r}")
        return value

    return parse


def add_control_argument(parser) -> None:
    parser.add_argument(
        "--control",
        type=_controls,
        default=None,
        metavar="NAME=VALUE,...",
        help="steer a model that has controls, e.g. --control style=funk,fill=no,density=12 "
        "(`seqgen configs` lists each config's controls)",
    )


def _controls(text: str) -> dict:
    from seqgen import controls

    try:
        return controls.parse(text)
    except SeqgenError as error:
        raise argparse.ArgumentTypeError(str(error).replace("--control ", "", 1)) from None


#: An argparse type for ``--seed``: what NumPy's random generators take.
seed_number = bounded_int(0, 2**63 - 1, "a non-negative integer below 2**63")


def temperature(text: str) -> float:
    # Far below this, the logits divided by the temperature overflow to infinity.
    return _number(float, text, lambda v: v >= 1e-6, "a positive number (at least 1e-06)")


def write_midi_files(tracks, output_dir) -> list:
    """Write one MIDI file per track (``track.to_midi()``) under a name no other run uses (claimed
    atomically, so runs in the same second, even concurrent ones, never clash); all of them or, on failure,
    none. The paths written."""
    from seqgen.files import NumberedFiles
    from seqgen.paths import make_dir

    make_dir(output_dir, "--output_dir")
    stem = datetime.datetime.now().strftime("%Y-%m-%d_%H%M%S")
    taken = set(os.listdir(output_dir))
    run = 1
    while any(name.startswith(f"{stem}_{run}_") for name in taken):
        run += 1
    digits = len(str(len(tracks)))
    with NumberedFiles(output_dir, len(tracks), "MIDI files") as staged:
        for track, temporary in zip(tracks, staged.temporaries):
            track.to_midi().write(temporary)
        return staged.place(lambda number, i: f"{stem}_{number}_{i:0{digits}d}.mid", first_run=run)


def model_and_midi_track(args, doing: str):
    """``(model, Track, steps per bar)``: the model a command's flags name and the track in its ``args.midi_file``
    (and its bar length), for commands
    that change a user's MIDI file (infill, vary). SeqgenError, before anything is written, when the file, the
    ``--output_dir``, the model or the track cannot serve; ``doing`` ("to keep") ends the message of an empty file."""
    from seqgen.loading import load_model
    from seqgen.model import Track
    from seqgen.paths import check_input_file, check_output_dir

    check_input_file(args.midi_file, "FILE.mid", "MIDI file")
    check_output_dir(args.output_dir, "--output_dir")
    model = load_model(args)
    config = model.config
    if not config.family.generative:
        raise SeqgenError(f"a {config.model} model does not generate tracks; give a model that does")
    found = config.tracks.primer_from_midi(args.midi_file, config)
    if found.notice:
        print(found.notice)
    if not any(event != config.encoding.no_event for event in found.events):
        raise SeqgenError(f"{args.midi_file} has no {config.tracks.noun} notes {doing}; give a file with some")
    return model, Track(found.events, config, found.qpm), found.steps_per_bar
