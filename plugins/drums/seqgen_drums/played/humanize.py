"""Humanizing drums with a groove model: the shipped model, loading a model of a family, reading a drum MIDI
file as a score, the --amount, --swing and temperature flags, and ``seqgen generate --humanize`` (the
``seqgen humanize`` command is :mod:`seqgen_drums.commands.humanize`)."""

import argparse
import os

from seqgen.errors import SeqgenError

#: The shipped groove model that samples (``seqgen.load`` knows it by this name); ``groove_gmd``, the first
#: one, predicts the mean velocity and offset.
DEFAULT_MODEL = "groove_sampling_gmd"


def _bounded_float(low: float, high: float, what: str):
    from seqgen.commands import non_negative_float

    def parse(text: str) -> float:
        value = non_negative_float(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    return parse


def add_feel_arguments(parser, temperature_flag: str) -> None:
    """--amount, --swing and the sampling temperature (``temperature_flag``) of humanize."""
    from seqgen.commands import non_negative_float
    from seqgen_drums.events.groove import MAX_SWING

    parser.add_argument(
        "--amount",
        type=_bounded_float(0.0, 1.0, "a number from 0 to 1"),
        default=1.0,
        help="how much to humanize: 0 keeps the drums as written (their own velocities and timing; "
        "velocity 100 on the grid for new ones), 1 plays them fully (default 1)",
    )
    parser.add_argument(
        "--swing",
        type=_bounded_float(0.0, MAX_SWING, f"a number from 0 to {MAX_SWING}"),
        default=0.0,
        help="delay the off-beat 16th notes by this share of a step "
        f"(0 to {MAX_SWING}; 0.33 is a triplet feel; default 0)",
    )
    parser.add_argument(
        temperature_flag,
        type=non_negative_float,
        default=1.0,
        help="sampling temperature of the velocities and timing: 1 as the model learned them, "
        "lower for steadier playing, 0 for the model's mean (default 1)",
    )


def load_model(source, family: str, doing: str, default: str):
    """The model at ``source``; SeqgenError when it is not of ``family`` (what ``doing`` needs)."""
    import seqgen

    model = seqgen.load(source)
    if model.config.model != family:
        raise SeqgenError(
            f"{source} is a {model.config.id} model ({model.config.model}); {doing} needs a {family} "
            f"model, such as the shipped {default}"
        )
    return model


def load_groove_model(source):
    """The groove model at ``source``; SeqgenError when it is another kind of model."""
    return load_model(source, "groove", "humanizing", DEFAULT_MODEL)


def read_score(path, steps_per_quarter: int = 4):
    """A drum MIDI file's hits on the grid with the velocity and timing it gives each (a MidiPrimer of
    PlayedEvents: events, qpm, steps_per_bar)."""
    from seqgen_drums.events.groove import played_from_midi

    if not os.path.isfile(path):
        raise SeqgenError(f"MIDI file {path} does not exist")
    try:
        return played_from_midi(path, steps_per_quarter)
    except SeqgenError as error:
        raise SeqgenError(str(error).replace("primer MIDI file", "MIDI file")) from None


# -- seqgen generate --humanize ------------------------------------------------------------------------


def add_generate_flag(parser) -> None:
    parser.add_argument(
        "--humanize",
        nargs="?",
        const=DEFAULT_MODEL,
        metavar="GROOVE_MODEL",
        help="give the generated drums velocities and timing with a groove model (default: the "
        f"shipped {DEFAULT_MODEL}); with --amount, --swing and --humanize_temperature, "
        "sampled with --seed",
    )
    add_feel_arguments(parser, "--humanize_temperature")


def generate_option(model):
    """``--humanize`` as a switch for pages such as seqgen studio, with why ``model`` cannot use it."""
    from seqgen.tracks import GenerateOption

    from seqgen_drums.events.tracks import DrumTracks

    unavailable = "" if isinstance(model.config.tracks, DrumTracks) else f"needs a drum model, not {model.config.id}"
    if not unavailable:
        try:
            load_groove_model(DEFAULT_MODEL)
        except SeqgenError as error:
            unavailable = str(error)
    return GenerateOption(
        "--humanize",
        "Humanize",
        "plays each hit with its own loudness and timing, as a drummer would (the shipped groove model)",
        unavailable,
    )


def postprocess(args, model, tracks):
    """``generate --humanize``: the played versions of drum ``tracks``."""
    source = getattr(args, "humanize", None)
    feel = tuple(
        getattr(args, name, default)
        for name, default in (("amount", 1.0), ("swing", 0.0), ("humanize_temperature", 1.0))
    )
    if source is None:
        if feel != (1.0, 0.0, 1.0):
            raise SeqgenError(
                "--amount, --swing and --humanize_temperature set how --humanize plays the drums; add --humanize"
            )
        return None
    from seqgen_drums.events.tracks import DrumTracks

    if not isinstance(model.config.tracks, DrumTracks):
        raise SeqgenError(f"--humanize needs a drum model; this is a {model.config.id} model")
    amount, swing, temperature = feel
    return load_groove_model(source).humanize_tracks(tracks, temperature, getattr(args, "seed", None), amount, swing)
