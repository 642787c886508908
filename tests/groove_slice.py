"""A small, fixed slice of the Groove MIDI Dataset for the dataset tests, copied with its relative paths."""

import csv
import shutil

from conftest import GROOVE


def slice_rows():
    """info.csv rows: a few beats of each split (one long), some short fills, and every odd meter."""
    rows = list(csv.DictReader(open(GROOVE / "info.csv", newline="")))
    chosen = []
    for split, count in (("train", 6), ("validation", 3), ("test", 3)):
        beats = [r for r in rows if r["split"] == split and r["beat_type"] == "beat"
                 and r["time_signature"] == "4-4" and 20 < float(r["duration"]) < 60]
        chosen += beats[:count]
    chosen += [r for r in rows if r["beat_type"] == "beat" and float(r["duration"]) > 90][:1]
    chosen += [r for r in rows if r["beat_type"] == "fill"][:3]
    for meter in ("3-4", "6-8", "5-8"):
        chosen += [r for r in rows if r["time_signature"] == meter][:1]
    return chosen


def copy_slice(directory, rows=None):
    """Copy the slice's MIDI files under ``directory``, keeping paths relative to the dataset root."""
    for row in rows or slice_rows():
        target = directory / row["midi_filename"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(GROOVE / row["midi_filename"], target)
    return directory
