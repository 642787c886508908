"""The Groove MIDI Dataset files the tests use, and copies of them with their relative paths.

The tests read a slice of the dataset kept in ``tests/data/groove`` (see its CREDIT.md).
``scripts/make_test_data.py`` builds that slice from the full dataset with :func:`fixture_rows`; the
selections below give the same rows on the slice as on the full dataset, since the slice's info.csv
keeps the dataset's row order.
"""

import csv
import shutil

from support import GROOVE

# Named by test_render.py and test_primer_midi.py.
FUNK = "drummer1/eval_session/1_funk-groove1_138_beat_4-4.mid"  # test split, 16 bars of 4/4
WALTZ = "drummer1/session2/4_jazz_120_beat_3-4.mid"
# test_default_model.py evaluates on the whole test split; its unigram baseline counts the classes of
# every TRAIN_STRIDE-th training performance (plus the training files the other tests take).
TRAIN_STRIDE = 8


def read_rows(root=GROOVE):
    with open(root / "info.csv", newline="") as stream:
        return list(csv.DictReader(stream))


def slice_rows(rows=None):
    """info.csv rows: a few beats of each split (one long), some short fills, and every odd meter."""
    rows = read_rows() if rows is None else rows
    chosen = []
    for split, count in (("train", 6), ("validation", 3), ("test", 3)):
        beats = [
            r
            for r in rows
            if r["split"] == split
            and r["beat_type"] == "beat"
            and r["time_signature"] == "4-4"
            and 20 < float(r["duration"]) < 60
        ]
        chosen += beats[:count]
    chosen += [r for r in rows if r["beat_type"] == "beat" and float(r["duration"]) > 90][:1]
    chosen += [r for r in rows if r["beat_type"] == "fill"][:3]
    for meter in ("3-4", "6-8", "5-8"):
        chosen += [r for r in rows if r["time_signature"] == meter][:1]
    return chosen


def bass_song_rows(rows=None, count=12):
    """Short 4/4 training beats, the songs test_example_plugin.py adds bass lines to."""
    rows = read_rows() if rows is None else rows
    return [
        r
        for r in rows
        if r["split"] == "train"
        and r["beat_type"] == "beat"
        and r["time_signature"] == "4-4"
        and float(r["duration"]) < 40
    ][:count]


def fixture_rows(rows):
    """The rows of the full dataset's info.csv that tests/data/groove keeps, in the dataset's order."""
    wanted = {r["midi_filename"] for r in slice_rows(rows) + bass_song_rows(rows)} | {FUNK, WALTZ}
    wanted |= {r["midi_filename"] for r in rows if r["split"] == "test"}
    wanted |= {r["midi_filename"] for r in [r for r in rows if r["split"] == "train"][::TRAIN_STRIDE]}
    return [r for r in rows if r["midi_filename"] in wanted]


def copy_slice(directory, rows=None):
    """Copy the slice's MIDI files under ``directory``, keeping paths relative to the dataset root."""
    for row in rows or slice_rows():
        target = directory / row["midi_filename"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(GROOVE / row["midi_filename"], target)
    return directory


def converted_slice(directory):
    """The slice's MIDI files copied under ``directory``/groove and converted: (their folder, NoteSequence records)."""
    from seqgen import convert

    folder = copy_slice(directory / "groove")
    out = directory / "ns.tfrecord"
    convert.convert_directory(folder, out, recursive=True)
    return folder, out


def train_tiny(config, groove_splits, run) -> list:
    """Train ``config`` for 30 steps on the slice's groove train records into ``run``; the log lines, after
    checking that the loss fell."""
    from seqgen import training

    lines = []
    trainer = training.train(
        config,
        str(run),
        [str(groove_splits / "train_drum_tracks.tfrecord")],
        training.TrainOptions(num_training_steps=30, summary_frequency=10, save_checkpoint_secs=0, seed=1),
        log=lines.append,
    )
    assert trainer.step == 30
    losses = [float(line.split("loss = ")[1].split(",")[0]) for line in lines if "loss = " in line]
    assert len(losses) == 3 and losses[-1] < losses[0]
    return lines
