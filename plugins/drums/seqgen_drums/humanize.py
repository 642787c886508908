"""Humanize drum MIDI files with a groove model: velocities and timing for every hit (GrooVAE's Humanize).

Each FILE.mid is read as a score (its drum hits on the 16th-note grid; the file's own velocities and
timing are ignored), every hit gets the velocity and the offset from the grid that the groove model
predicts from the whole score, and the result is written to --output_dir as FILE.mid, at the file's
tempo. The model is the shipped groove model unless --bundle_file names another (a groove bundle, run
dir or checkpoint). `seqgen generate --humanize` does the same to freshly generated drums.
"""

import os

from seqgen.errors import SeqgenError

#: The shipped groove model (``seqgen.load`` knows it by this name).
DEFAULT_MODEL = "groove_gmd"


def add_arguments(parser) -> None:
    parser.add_argument("midi_files", nargs="+", metavar="FILE.mid", help="drum MIDI files to humanize")
    parser.add_argument("--output_dir", required=True, help="folder for the humanized MIDI files (created if missing)")
    parser.add_argument("--bundle_file", default=DEFAULT_MODEL,
                        help=f"groove model: a bundle, run dir, checkpoint or shipped name (default {DEFAULT_MODEL})")
    parser.add_argument("--overwrite", action="store_true", help="replace existing files in --output_dir")
    parser.add_argument("--render", action="store_true",
                        help="also write a WAV (FluidSynth) and a PNG picture beside each humanized file")
    parser.add_argument("--soundfont", help="General MIDI .sf2 soundfont for --render (default: an installed one)")


def load_groove_model(source):
    """The groove model at ``source``; SeqgenError when it is another kind of model."""
    import seqgen

    model = seqgen.load(source)
    if model.config.model != "groove":
        raise SeqgenError(f"{source} is a {model.config.id} model ({model.config.model}); humanizing needs a groove "
                          f"model, such as the shipped {DEFAULT_MODEL}")
    return model


def read_score(path, steps_per_quarter: int = 4):
    """A drum MIDI file's hits on the grid (a MidiPrimer: events, qpm, steps_per_bar)."""
    from seqgen_drums import primer

    if not os.path.isfile(path):
        raise SeqgenError(f"MIDI file {path} does not exist")
    try:
        return primer.primer_from_midi(path, steps_per_quarter)
    except SeqgenError as error:
        raise SeqgenError(str(error).replace("primer MIDI file", "MIDI file")) from None


def _targets(midi_files, output_dir, overwrite) -> list:
    targets, seen = [], {}
    for path in midi_files:
        name = os.path.splitext(os.path.basename(path))[0] + ".mid"
        target = os.path.join(output_dir, name)
        if target in seen:
            raise SeqgenError(f"{seen[target]} and {path} would both be written to {target}; rename one")
        if os.path.abspath(target) == os.path.abspath(path):
            raise SeqgenError(f"{path} would be replaced by its humanized version; choose another --output_dir")
        if os.path.exists(target) and not overwrite:
            raise SeqgenError(f"{target} already exists; pass --overwrite to replace it")
        seen[target] = path
        targets.append(target)
    return targets


def run(args) -> int:
    from seqgen.files import atomic_path

    if os.path.exists(args.output_dir) and not os.path.isdir(args.output_dir):
        raise SeqgenError(f"--output_dir {args.output_dir} is a file; give a directory")
    if args.render:
        from seqgen import render

        render.find_fluidsynth()
        render.find_soundfont(args.soundfont)
    model = load_groove_model(args.bundle_file)
    scores = [read_score(path, model.config.steps_per_quarter) for path in args.midi_files]
    targets = _targets(args.midi_files, args.output_dir, args.overwrite)
    played = model.humanize_tracks(scores)
    try:
        os.makedirs(args.output_dir, exist_ok=True)
    except OSError as error:
        raise SeqgenError(f"cannot create --output_dir {args.output_dir}: {error.strerror}") from None
    for track, target in zip(played, targets):
        with atomic_path(target) as temporary:
            track.to_midi().write(temporary)
    hits = sum(len(event) for track in played for event in track.events)
    print(f"humanized {len(targets)} drum file{'s' * (len(targets) > 1)} ({hits} hits) into {args.output_dir}")
    if args.render:
        written = render.render_outputs(targets, model.config, soundfont=args.soundfont, overwrite=args.overwrite)
        kinds = [os.path.splitext(path)[1][1:].upper() for path in written]
        print("wrote " + " and ".join(f"{kinds.count(kind)} {kind}" for kind in ("WAV", "PNG") if kind in kinds)
              + " files beside them")
    return 0


# -- seqgen generate --humanize ------------------------------------------------------------------------

def add_generate_flag(parser) -> None:
    parser.add_argument("--humanize", nargs="?", const=DEFAULT_MODEL, metavar="GROOVE_MODEL",
                        help="give the generated drums velocities and timing with a groove model (default: the "
                             f"shipped {DEFAULT_MODEL})")


def generate_option(model):
    """``--humanize`` as a switch for pages such as seqgen studio, with why ``model`` cannot use it."""
    from seqgen.tracks import GenerateOption

    from seqgen_drums.tracks import DrumTracks

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
    if source is None:
        return None
    from seqgen_drums.tracks import DrumTracks

    if not isinstance(model.config.tracks, DrumTracks):
        raise SeqgenError(f"--humanize needs a drum model; this is a {model.config.id} model")
    return load_groove_model(source).humanize_tracks(tracks)
