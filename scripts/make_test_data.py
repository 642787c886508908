"""Rebuild tests/data, the data the tests carry, from the full Groove MIDI Dataset and Magenta's reference files.

tests/data/groove: the Groove MIDI files the tests use (tests/groove_slice.py says which), with their paths
relative to the dataset root, the info.csv rows of those files (in the dataset's order), the dataset's
LICENSE and README copied verbatim, and CREDIT.md. tests/data/magenta: the two Magenta .mag bundles, their
reference outputs and README.md. Only needed when the tests start using other files.

Usage: python scripts/make_test_data.py [--groove ../shared/datasets/groove]
                                        [--magenta ../shared/reference/magenta] [--output tests/data]
"""

import argparse
import csv
import io
import pathlib
import shutil
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
MAGENTA_FILES = [
    "drum_kit_gmd_64x2_attn32_300steps.mag",
    "one_drum_gmd_128x2_300steps.mag",
    "reference_logits.json",
    "reference_softmax_full.json",
    "README.md",
]
CREDIT = """\
# Credit

This folder is a slice of the **Groove MIDI Dataset** (v1.0.0) by Jon Gillick, Adam Roberts, Jesse Engel,
Douglas Eck and David Bamman: "Learning to Groove with Inverse Sequence Transformations", ICML 2019
(Gillick et al. 2019), https://magenta.tensorflow.org/datasets/groove

It is licensed under the Creative Commons Attribution 4.0 International License (CC BY 4.0,
https://creativecommons.org/licenses/by/4.0/); see LICENSE and README, copied verbatim from the dataset.

Changes: only {count} of the dataset's {total} MIDI files are kept (the whole test split, every {stride}th
training performance, and the few others the tests name), at their paths in the dataset, unchanged.
info.csv keeps the header and the rows of these files, unchanged and in the dataset's order.
Made by `scripts/make_test_data.py` of this repository.
"""


def fail(message):
    print(f"make_test_data: {message}", file=sys.stderr)
    sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--groove",
        type=pathlib.Path,
        default=REPO.parent / "shared" / "datasets" / "groove",
        help="the full Groove MIDI Dataset (the folder holding info.csv)",
    )
    parser.add_argument(
        "--magenta",
        type=pathlib.Path,
        default=REPO.parent / "shared" / "reference" / "magenta",
        help="the folder holding Magenta's reference .mag bundles and outputs",
    )
    parser.add_argument("--output", type=pathlib.Path, default=REPO / "tests" / "data")
    args = parser.parse_args()
    if not (args.groove / "info.csv").is_file():
        fail(
            f"no Groove MIDI Dataset at {args.groove} (no info.csv there): download it from "
            "https://magenta.tensorflow.org/datasets/groove and pass its folder as --groove DIR"
        )
    missing = [name for name in MAGENTA_FILES if not (args.magenta / name).is_file()]
    if missing:
        fail(
            f"{args.magenta} lacks {', '.join(missing)}: pass the folder of Magenta's reference files as --magenta DIR"
        )

    sys.path.insert(0, str(REPO / "tests"))
    import groove_slice

    with open(args.groove / "info.csv", newline="") as stream:
        lines = stream.read().splitlines(keepends=True)
    rows = groove_slice.read_rows(args.groove)
    kept = groove_slice.fixture_rows(rows)
    names = {r["midi_filename"] for r in kept}
    groove = args.output / "groove"
    shutil.rmtree(groove, ignore_errors=True)
    groove.mkdir(parents=True)
    for row in kept:
        target = groove / row["midi_filename"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(args.groove / row["midi_filename"], target)
    # The rows verbatim: each line of info.csv is one row.
    body = [line for line in lines[1:] if next(csv.DictReader(io.StringIO(lines[0] + line)))["midi_filename"] in names]
    assert len(body) == len(kept)
    with open(groove / "info.csv", "w", newline="") as stream:
        stream.write(lines[0] + "".join(body))
    for name in ("LICENSE", "README"):
        shutil.copyfile(args.groove / name, groove / name)
    (groove / "CREDIT.md").write_text(CREDIT.format(count=len(kept), total=len(rows), stride=groove_slice.TRAIN_STRIDE))
    # The slice gives each test the rows the full dataset would.
    sliced = groove_slice.read_rows(groove)
    for select in (
        groove_slice.slice_rows,
        groove_slice.bass_song_rows,
        lambda rows: [r for r in rows if r["split"] == "test"],
    ):
        assert select(sliced) == select(rows)

    magenta = args.output / "magenta"
    shutil.rmtree(magenta, ignore_errors=True)
    magenta.mkdir(parents=True)
    for name in MAGENTA_FILES:
        shutil.copyfile(args.magenta / name, magenta / name)

    size = sum(p.stat().st_size for p in args.output.rglob("*") if p.is_file())
    print(
        f"wrote {len(kept)} Groove MIDI files and {len(MAGENTA_FILES)} Magenta files to {args.output} "
        f"({size / 1e6:.2f} MB in all)"
    )


if __name__ == "__main__":
    main()
