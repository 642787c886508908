"""Generate whole songs: a form of sections, each with its controls, fills into each change, repeats.

--form lists the sections as name:bars ("intro:4 verse:8 chorus:8 verse:8 chorus:8 outro:4"); a name that
came before repeats that section (exactly, or with --variation of its bars regenerated; options :new,
:repeat and :vary=0.3 decide per section). --control verse:density=14 steers one section (without a
section name, every section). Each new section is generated with its controls; then the bars around each
change are made again reading both sides, the next section's first bar and the last bar before the change
(a fill, with --fills, through the plugin's fill control); each section's first step plays what the plugin
says a section starts with (drums: a crash with the kick). One MIDI file per output holds the whole song,
with a marker naming each section at its first step, and lasts exactly the form's bars.
"""

import argparse
import os

from seqgen import plugins
from seqgen.commands import add_model_arguments, at_most, _number, seed_number, temperature, write_midi_files
from seqgen.errors import SeqgenError


def add_arguments(parser) -> None:
    add_model_arguments(parser)
    parser.add_argument(
        "--form",
        required=True,
        help='the sections as name:bars, e.g. "intro:4 verse:8 chorus:8 verse:8 chorus:8 outro:4" '
        "(options: verse:8:new, verse:8:repeat, verse:8:vary=0.3)",
    )
    parser.add_argument(
        "--control",
        action="append",
        type=section_controls,
        default=[],
        metavar="[SECTION:]NAME=VALUE,...",
        help="steer a section, e.g. --control verse:density=14 --control chorus:density=22,style=funk "
        "(without SECTION: every section; `seqgen configs` lists each config's controls)",
    )
    parser.add_argument(
        "--fills",
        choices=("yes", "no"),
        help="a fill in the last bar of each section but the last (default: where the model can)",
    )
    parser.add_argument(
        "--variation",
        type=_share,
        default=0.0,
        help="share of a repeated section's bars made anew, 0 to 1 (default 0: exact repeats)",
    )
    parser.add_argument("--output_dir", default="generated", help="where the MIDI files go (default ./generated)")
    parser.add_argument("--num_outputs", type=at_most(1000), default=1, help="how many songs (default 1)")
    parser.add_argument(
        "--temperature", type=temperature, default=1.0, help="above 1 more random, below 1 less (default 1.0)"
    )
    parser.add_argument(
        "--seed",
        type=seed_number,
        help="random seed: the same seed gives the same songs",
    )
    parser.add_argument("--qpm", type=_qpm, help="tempo of the output (default: a tempo control's, else 120)")


def _share(text: str) -> float:
    return _number(float, text, lambda v: 0 <= v <= 1, "a number from 0 to 1")


def _qpm(text: str) -> float:
    return _number(float, text, lambda v: 4 <= v <= 1000, "a positive number from 4 to 1000 (quarter notes per minute)")


def section_controls(text: str) -> tuple:
    """``"verse:density=14,style=funk"`` as ``("verse", {...})``; without a section, ``(None, {...})``."""
    from seqgen import controls

    section, colon, rest = text.partition(":")
    if not colon or "=" in section:
        section, rest = None, text
    elif not section.strip():
        raise argparse.ArgumentTypeError(f"{text!r} names no section before ':'; write e.g. verse:density=14")
    try:
        return section and section.strip(), controls.parse(rest)
    except SeqgenError as error:
        raise argparse.ArgumentTypeError(str(error).replace("--control ", "", 1)) from None


def song_controls(given) -> tuple:
    """``({section: {control: value}}, {control: value} for every section)`` of the --control flags; a control
    given twice for one section is refused."""
    by_section, everywhere = {}, {}
    for section, values in given:
        target = everywhere if section is None else by_section.setdefault(section, {})
        for name, value in values.items():
            if name in target:
                where = f"section {section}" if section else "every section"
                raise SeqgenError(f"--control gives {name} twice for {where}; give each control once")
            target[name] = value
    return by_section, everywhere


class _Marked:
    """A played version of a song (e.g. humanized) written with the song's markers and length."""

    def __init__(self, track, song):
        self.track, self.song = track, song

    def to_midi(self):
        return self.song.marked(self.track.to_midi())


def run(args) -> int:
    from seqgen import form
    from seqgen.loading import load_model
    from seqgen.paths import check_output_dir

    sections = form.parse_form(args.form)
    by_section, everywhere = song_controls(args.control)
    sections = form.with_controls(sections, by_section)
    check_output_dir(args.output_dir, "--output_dir")
    model = load_model(args)
    config = model.config
    if not config.family.generative:
        raise SeqgenError(f"a {config.model} model does not generate tracks; give a model that does")
    controls = {section.name: {**everywhere, **section.controls} for section in sections}
    tempo = controls[sections[0].name].get("tempo")
    qpm = args.qpm or (float(tempo) if tempo is not None and any(c.name == "tempo" for c in model.controls) else 120.0)
    fills = None if args.fills is None else args.fills == "yes"
    songs = model.song(sections, controls, fills, args.variation, args.num_outputs, args.temperature, args.seed, qpm)
    played = plugins.postprocess_tracks(args, model, songs)
    played = [track if track is made else _Marked(track, made) for track, made in zip(played, songs)]
    paths = write_midi_files(played, args.output_dir)
    bars = sum(section.bars for section in sections)
    print(
        f"wrote {len(paths)} song{'s' if len(paths) > 1 else ''} of {bars} bars ({len(sections)} sections) to "
        f"{args.output_dir}: {os.path.basename(paths[0])}"
        + (f" .. {os.path.basename(paths[-1])}" if len(paths) > 1 else "")
    )
    return 0
