"""Convert a directory of MIDI files to a TFRecord file of NoteSequences (Magenta's format).

Every .mid/.midi file (any case) becomes one note_seq NoteSequence; other files are skipped, corrupt
MIDI files are named in a warning and counted. Records work with Magenta's tools and seqgen's.
"""


def add_arguments(parser) -> None:
    parser.add_argument("--input_dir", required=True, help="directory of MIDI files")
    parser.add_argument("--output_file", required=True, help="TFRecord file to write, e.g. notesequences.tfrecord")
    parser.add_argument("--recursive", action="store_true", help="also convert files in subdirectories")
    parser.add_argument("--overwrite", action="store_true", help="replace --output_file if it exists")
    parser.add_argument(
        "--metadata_csv",
        help="CSV of labels by file (a 'midi_filename' column relative to --input_dir, as the Groove "
        "dataset's info.csv): each row's columns go into its NoteSequence, for controls",
    )


def run(args) -> int:
    from seqgen.convert import convert_directory

    result = convert_directory(
        args.input_dir,
        args.output_file,
        recursive=args.recursive,
        overwrite=args.overwrite,
        metadata_csv=args.metadata_csv,
    )
    print(
        f"converted {result.converted} MIDI files to {args.output_file}; skipped {result.skipped} files "
        f"that are not MIDI; failed {len(result.failed)} unreadable MIDI files"
    )
    if args.metadata_csv:
        print(f"labelled {result.labelled} of them from {args.metadata_csv}")
    return 0
