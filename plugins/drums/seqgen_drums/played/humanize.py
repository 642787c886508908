"""Humanize drum MIDI files with a groove model: velocities and timing for every hit (GrooVAE's Humanize).

Each FILE.mid is read as a score (its drum hits on the 16th-note grid, each with the file's own velocity
and timing), every hit gets a velocity and an offset from the grid drawn from what the groove model
predicts from the whole score (--temperature, --seed), and moves --amount of the way from the file's own
to those (0: the file as written, 1: fully played), with the off-beat 16ths delayed by --swing of a step; the
result is written to --output_dir as FILE.mid, at the file's tempo. The model is the shipped groove model unless
--bundle_file names another (a groove bundle, run dir or checkpoint). `seqgen generate --humanize` does
the same to freshly generated drums (with --amount, --swing and --humanize_temperature).
"""

import argparse
import os

from seqgen.errors import SeqgenError
from seqgen.files import existing_outputs

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


def add_seed_argument(parser) -> None:
    from seqgen.commands import bounded_int

    parser.add_argument("--seed", type=bounded_int(0, 2**63 - 1, "a non-negative integer below 2**63"),
                        help="random seed: the same seed gives the same output")


def add_feel_arguments(parser, temperature_flag: str) -> None:
    """--amount, --swing and the sampling temperature (``temperature_flag``) of humanize."""
    from seqgen.commands import non_negative_float
    from seqgen_drums.events.groove import MAX_SWING

    parser.add_argument("--amount", type=_bounded_float(0.0, 1.0, "a number from 0 to 1"), default=1.0,
                        help="how much to humanize: 0 keeps the drums as written (their own velocities and timing; "
                             "velocity 100 on the grid for new ones), 1 plays them fully (default 1)")
    parser.add_argument("--swing", type=_bounded_float(0.0, MAX_SWING, f"a number from 0 to {MAX_SWING}"),
                        default=0.0, help="delay the off-beat 16th notes by this share of a step "
                                          f"(0 to {MAX_SWING}; 0.33 is a triplet feel; default 0)")
    parser.add_argument(temperature_flag, type=non_negative_float, default=1.0,
                        help="sampling temperature of the velocities and timing: 1 as the model learned them, "
                             "lower for steadier playing, 0 for the model's mean (default 1)")


def add_arguments(parser) -> None:
    parser.add_argument("midi_files", nargs="+", metavar="FILE.mid", help="drum MIDI files to humanize")
    add_output_arguments(parser)
    parser.add_argument("--bundle_file", default=DEFAULT_MODEL,
                        help=f"groove model: a bundle, run dir, checkpoint or shipped name (default {DEFAULT_MODEL})")
    add_feel_arguments(parser, "--temperature")
    add_seed_argument(parser)



def load_model(source, family: str, doing: str, default: str):
    """The model at ``source``; SeqgenError when it is not of ``family`` (what ``doing`` needs)."""
    import seqgen

    model = seqgen.load(source)
    if model.config.model != family:
        raise SeqgenError(f"{source} is a {model.config.id} model ({model.config.model}); {doing} needs a {family} "
                          f"model, such as the shipped {default}")
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


def add_output_arguments(parser) -> None:
    parser.add_argument("--output_dir", required=True, help="folder for the MIDI files written (created if missing)")
    parser.add_argument("--overwrite", action="store_true", help="replace existing files in --output_dir")
    parser.add_argument("--render", action="store_true",
                        help="also write a WAV and a PNG picture beside each MIDI file written")
    parser.add_argument("--soundfont", help="General MIDI .sf2 soundfont for --render (default: an installed one)")


def check_output(args) -> None:
    """SeqgenError, before any work, when --output_dir or --render cannot be used."""
    if os.path.exists(args.output_dir) and not os.path.isdir(args.output_dir):
        raise SeqgenError(f"--output_dir {args.output_dir} is a file; give a directory")
    if args.render:
        from seqgen import render

        render.find_soundfont(args.soundfont)


def output_targets(midi_files, output_dir, overwrite, what: str) -> list:
    """``output_dir/FILE.mid`` for each input file; SeqgenError when one would replace an input, another
    output or (without ``overwrite``) an existing file."""
    targets, seen = [], {}
    for path in midi_files:
        name = os.path.splitext(os.path.basename(path))[0] + ".mid"
        target = os.path.join(output_dir, name)
        if target in seen:
            raise SeqgenError(f"{seen[target]} and {path} would both be written to {target}; rename one")
        if os.path.abspath(target) == os.path.abspath(path):
            raise SeqgenError(f"{path} would be replaced by its {what} version; choose another --output_dir")
        if not overwrite and existing_outputs([target]):
            raise SeqgenError(f"{target} already exists; pass --overwrite to replace it")
        seen[target] = path
        targets.append(target)
    return targets


def write_outputs(args, targets, make_tracks) -> list:
    """The tracks ``make_tracks()`` returns, written to ``targets`` all together or none (a second command
    writing the same files is refused at once, before this one's work)."""
    from seqgen.files import OutputSet

    try:
        os.makedirs(args.output_dir, exist_ok=True)
    except OSError as error:
        raise SeqgenError(f"cannot create --output_dir {args.output_dir}: {error.strerror}") from None
    with OutputSet(targets, args.overwrite, hint="choose another --output_dir") as outputs:
        tracks = make_tracks()
        for track, target in zip(tracks, targets):
            track.to_midi().write(outputs.temporary(target))
    return tracks


def render_outputs(args, config, targets) -> None:
    """With --render, the WAV and PNG of each written MIDI file."""
    from seqgen.files import kept_before

    if args.render:
        from seqgen import render

        with kept_before(f"the {len(targets)} MIDI files written, and the WAV and PNG files rendered before"):
            written = render.render_outputs(targets, config, soundfont=args.soundfont, overwrite=args.overwrite)
        kinds = [os.path.splitext(path)[1][1:].upper() for path in written]
        print("wrote " + " and ".join(f"{kinds.count(kind)} {kind}" for kind in ("WAV", "PNG") if kind in kinds)
              + " files beside them")


def count_hits(tracks) -> int:
    return sum(len(event) for track in tracks for event in track.events)


def run(args) -> int:
    check_output(args)
    model = load_groove_model(args.bundle_file)
    scores = [read_score(path, model.config.steps_per_quarter) for path in args.midi_files]
    targets = output_targets(args.midi_files, args.output_dir, args.overwrite, "humanized")
    played = write_outputs(args, targets, lambda: model.humanize_tracks(
        scores, args.temperature, args.seed, args.amount, args.swing))
    print(f"humanized {len(targets)} drum file{'s' * (len(targets) > 1)} ({count_hits(played)} hits) into "
          f"{args.output_dir}")
    render_outputs(args, model.config, targets)
    return 0


# -- seqgen generate --humanize ------------------------------------------------------------------------

def add_generate_flag(parser) -> None:
    parser.add_argument("--humanize", nargs="?", const=DEFAULT_MODEL, metavar="GROOVE_MODEL",
                        help="give the generated drums velocities and timing with a groove model (default: the "
                             f"shipped {DEFAULT_MODEL}); with --amount, --swing and --humanize_temperature, "
                             "sampled with --seed")
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
    return GenerateOption("--humanize", "Humanize", "plays each hit with its own loudness and timing, as a drummer "
                          "would (the shipped groove model)", unavailable)


def postprocess(args, model, tracks):
    """``generate --humanize``: the played versions of drum ``tracks``."""
    source = getattr(args, "humanize", None)
    feel = tuple(getattr(args, name, default) for name, default in (("amount", 1.0), ("swing", 0.0),
                                                                   ("humanize_temperature", 1.0)))
    if source is None:
        if feel != (1.0, 0.0, 1.0):
            raise SeqgenError("--amount, --swing and --humanize_temperature set how --humanize plays the drums; "
                              "add --humanize")
        return None
    from seqgen_drums.events.tracks import DrumTracks

    if not isinstance(model.config.tracks, DrumTracks):
        raise SeqgenError(f"--humanize needs a drum model; this is a {model.config.id} model")
    amount, swing, temperature = feel
    return load_groove_model(source).humanize_tracks(tracks, temperature, getattr(args, "seed", None), amount, swing)
