"""What the plugin's file commands (humanize, drumify) share: --seed, and their outputs: --output_dir,
--overwrite, --render and --soundfont, one MIDI file per input file, written all together or none."""

import os

from seqgen.errors import SeqgenError
from seqgen.files import existing_outputs


def add_seed_argument(parser) -> None:
    from seqgen.commands import seed_number

    parser.add_argument(
        "--seed",
        type=seed_number,
        help="random seed: the same seed gives the same output",
    )


def add_output_arguments(parser) -> None:
    parser.add_argument("--output_dir", required=True, help="folder for the MIDI files written (created if missing)")
    parser.add_argument("--overwrite", action="store_true", help="replace existing files in --output_dir")
    parser.add_argument(
        "--render", action="store_true", help="also write a WAV and a PNG picture beside each MIDI file written"
    )
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
    from seqgen.disk_full import kept_before

    if args.render:
        from seqgen import render

        with kept_before(f"the {len(targets)} MIDI files written, and the WAV and PNG files rendered before"):
            written = render.render_outputs(targets, config, soundfont=args.soundfont, overwrite=args.overwrite)
        kinds = [os.path.splitext(path)[1][1:].upper() for path in written]
        print(
            "wrote "
            + " and ".join(f"{kinds.count(kind)} {kind}" for kind in ("WAV", "PNG") if kind in kinds)
            + " files beside them"
        )


def count_hits(tracks) -> int:
    return sum(len(event) for track in tracks for event in track.events)
