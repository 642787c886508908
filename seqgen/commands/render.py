"""Render MIDI files to WAV audio and PNG pictures of their tracks.

Each FILE.mid becomes FILE.wav and FILE.png in --output_dir. The WAV plays a General MIDI soundfont (an
installed one, else the one pretty_midi ships, or --soundfont) with the FluidSynth program where it is
installed, else in-process. The PNG is drawn by the config's plugin (the drums
plugin: one row per drum, one column per step); configs that draw nothing get the WAV alone.
"""

from seqgen.commands import bounded_int


def add_arguments(parser) -> None:
    parser.add_argument("midi_files", nargs="+", metavar="FILE.mid", help="MIDI files to render")
    parser.add_argument("--output_dir", required=True, help="folder for the WAV and PNG files")
    parser.add_argument("--plugin", help="plugin whose config draws the picture (optional)")
    parser.add_argument("--config", help="config that reads and draws the tracks (default: the shipped model's)")
    parser.add_argument("--soundfont", help="General MIDI .sf2 soundfont (default: an installed one)")
    parser.add_argument(
        "--sample_rate",
        type=bounded_int(8000, 96000, "a sample rate in Hz from 8000 to 96000"),
        default=44100,
        help="WAV sample rate in Hz, 8000 to 96000",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace existing WAV and PNG files")


def run(args) -> int:
    from seqgen import plugins, render
    from seqgen.loading import default_config

    config = plugins.get_config(args.config, args.plugin) if args.config else default_config(plugin=args.plugin)
    written = render.render_outputs(
        args.midi_files,
        config,
        output_dir=args.output_dir,
        soundfont=args.soundfont,
        sample_rate=args.sample_rate,
        overwrite=args.overwrite,
    )
    for path in written:
        print(path)
    return 0
