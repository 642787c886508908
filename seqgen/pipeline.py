"""The dataset pipeline, generic over plugins: NoteSequences to training records, split by a stable hash.

Per NoteSequence, as Magenta's ``*_rnn_create_dataset``: assign a split, cut at time-signature and tempo
changes, quantize at the config's steps_per_quarter, let the plugin extract tracks
(``config.tracks.extract``), and let the config's model family's task encode each track as a record
(classes, see :mod:`seqgen.records`, unless the family's :class:`seqgen.task.Task` records more).
The split of a sequence depends only on its id and the seed, so adding files
never moves others between splits. :func:`process` is shared by the local run and the Beam run.
"""

import collections
import csv
import hashlib
import os

import attrs

from seqgen import controls, files, records, tfrecord
from seqgen.errors import SeqgenError
from seqgen.progress import Progress

TRAINING, EVAL = "training", "eval"
_QUANTIZE_ERRORS = {
    "MultipleTimeSignatureError": "sequences_discarded_because_multiple_time_signatures",
    "MultipleTempoError": "sequences_discarded_because_multiple_tempos",
    "BadTimeSignatureError": "sequences_discarded_because_bad_time_signature",
    "NegativeTimeError": "sequences_discarded_because_negative_time",
}


@attrs.frozen
class SplitOptions:
    """How sequences are assigned to splits: by hash and eval_ratio, or by a CSV of file names."""

    eval_ratio: float = 0.1
    seed: int = 0
    # midi_filename -> split name (from --split_csv); None to split by eval_ratio.
    csv_splits: dict = attrs.field(default=None, eq=False)

    @property
    def split_names(self) -> tuple:
        if self.csv_splits is None:
            return (TRAINING, EVAL)
        return tuple(sorted(set(self.csv_splits.values())))


def load_split_csv(path) -> dict:
    """``midi_filename -> split`` from a CSV such as the Groove dataset's info.csv."""
    try:
        with open(path, newline="", encoding="utf-8") as stream:
            reader = csv.DictReader(stream)
            missing = {"midi_filename", "split"} - set(reader.fieldnames or ())
            if missing:
                raise SeqgenError(
                    f"--split_csv {path} lacks the column(s) {', '.join(sorted(missing))}; it needs "
                    f"'midi_filename' and 'split' columns (as the Groove dataset's info.csv)"
                )
            splits = {row["midi_filename"]: row["split"].strip() for row in reader if row["split"].strip()}
    except OSError as error:
        raise SeqgenError(f"cannot read --split_csv {path}: {error.strerror}") from None
    if not splits:
        raise SeqgenError(f"--split_csv {path} has no rows with a split")
    bad = sorted({s for s in splits.values() if not s.replace("_", "").replace("-", "").isalnum()})
    if bad:
        raise SeqgenError(f"--split_csv {path} has split name {bad[0]!r}; use letters, digits, '-' or '_'")
    return splits


def hash_fraction(sequence_id: str, seed: int) -> float:
    """A number in [0, 1) that depends only on the sequence id and the seed."""
    digest = hashlib.sha256(f"{seed}\0{sequence_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_split(sequence, options: SplitOptions):
    """The split name of a NoteSequence, or None when --split_csv does not list it."""
    if options.csv_splits is not None:
        return options.csv_splits.get(sequence.filename)
    return EVAL if hash_fraction(sequence.id, options.seed) < options.eval_ratio else TRAINING


def process(serialized: bytes, config, options: SplitOptions, task=None):
    """``(split name or None, list of records, Counter)`` for one serialized NoteSequence; ``task``
    (default: the config's family's) encodes the tracks."""
    from seqgen.noteseq import music_pb2, sequences_lib

    task = task or config.family.task
    counts = collections.Counter(sequences_in=1)
    try:
        sequence = music_pb2.NoteSequence.FromString(serialized)
    except Exception:  # protobuf's DecodeError
        raise SeqgenError("the input is not a file of NoteSequences; make one with `seqgen convert`") from None
    split = assign_split(sequence, options)
    metadata = controls.sequence_metadata(sequence) if config.controls else {}
    if split is None:
        counts["sequences_not_in_split_csv"] += 1
        return None, [], counts
    out = []
    for piece in sequences_lib.split_note_sequence_on_time_changes(sequence, skip_splits_inside_notes=False):
        counts["pieces_after_time_change_split"] += 1
        try:
            quantized = sequences_lib.quantize_note_sequence(piece, config.steps_per_quarter)
        except (
            sequences_lib.MultipleTimeSignatureError,
            sequences_lib.MultipleTempoError,
            sequences_lib.BadTimeSignatureError,
            sequences_lib.NegativeTimeError,
        ) as error:
            counts[_QUANTIZE_ERRORS[type(error).__name__]] += 1
            continue
        tracks, track_counts = config.tracks.extract(quantized, config.extraction)
        counts.update(track_counts)
        counts["tracks_extracted"] += len(tracks)
        for track in tracks:
            record = task.encode(config, track)
            if config.controls:
                piece_metadata = dict(metadata, qpm=quantized.tempos[0].qpm) if quantized.tempos else metadata
                record = records.add_context(record, controls.measure(config.controls, track, piece_metadata))
            out.append(record)
    counts[f"examples_{split}"] += len(out)
    return split, out, counts


def output_path(output_dir, split: str, config) -> str:
    """``OUT/<split>_<plural>.tfrecord``, e.g. ``training_drum_tracks.tfrecord``."""
    return os.path.join(str(output_dir), f"{split}_{config.tracks.plural.replace(' ', '_')}.tfrecord")


def check_outputs(output_dir, config, options, overwrite) -> dict:
    """Output path per split; SeqgenError when one exists and ``overwrite`` is false."""
    paths = {split: output_path(output_dir, split, config) for split in options.split_names}
    existing = files.existing_outputs(paths.values())  # a killed run's unfinished output may be redone
    if existing and not overwrite:
        raise SeqgenError(
            f"{existing[0]} already exists; pass --overwrite to replace it, or choose another --output_dir"
        )
    return paths


def explain_empty(counts, config) -> str:
    """Why no example came out, from the counts."""
    noun = config.tracks.noun
    if not counts["sequences_in"]:
        return "the input holds no NoteSequences"
    if counts["sequences_not_in_split_csv"] == counts["sequences_in"]:
        return (
            "no NoteSequence filename is listed in --split_csv: run `seqgen convert` with --input_dir at the "
            "directory the CSV's midi_filename paths are relative to"
        )
    hint = config.tracks.empty_output_hint(counts)
    if hint:
        return hint
    if not counts["pieces_after_time_change_split"] - sum(counts[v] for v in _QUANTIZE_ERRORS.values()):
        return "no sequence could be quantized (see the discarded counts above)"
    too_short = sum(v for k, v in counts.items() if "too_short" in k)
    if too_short:
        return f"every {noun} was shorter than min_bars={config.extraction.min_bars} bars ({too_short} discarded)"
    return f"no {noun} was found in the input"


_worker_state = {}


def _init_worker(config, options, task):  # run by convert.quiet_worker
    _worker_state["args"] = (config, options, task)


def _process_task(serialized):
    return process(serialized, *_worker_state["args"])


def create_dataset(input_path, output_dir, config, options: SplitOptions, overwrite=False, workers=None):
    """Run the pipeline locally on every core; ``(Counter, {split: path})``."""
    from seqgen.convert import worker_pool

    paths = check_outputs(output_dir, config, options, overwrite)
    task = config.family.task
    serialized = tfrecord.read_records(input_path)
    workers = workers or min(os.cpu_count() or 1, max(1, len(serialized) // 16))
    counts = collections.Counter(sequences_in=0)
    by_split = {split: [] for split in paths}
    os.makedirs(str(output_dir), exist_ok=True)
    # The record files appear together or not at all, and a second run into the same files is refused at once.
    with files.OutputSet(paths.values(), overwrite, hint="choose another --output_dir") as outputs:
        with Progress(len(serialized), "create_dataset", unit="sequence") as progress:
            if workers > 1:
                with worker_pool(workers, _init_worker, (config, options, task)) as pool:
                    results = list(_tracked(pool.imap(_process_task, serialized, chunksize=8), progress))
            else:
                results = list(_tracked((process(s, config, options, task) for s in serialized), progress))
        for split, out, item_counts in results:
            counts.update(item_counts)
            if split is not None:
                by_split[split] += out
        for split, path in paths.items():
            with open(outputs.temporary(path), "wb") as stream:
                stream.write(tfrecord.encode_records(by_split[split]))
    return counts, paths


def _tracked(results, progress):
    for result in results:
        progress.update()
        yield result
