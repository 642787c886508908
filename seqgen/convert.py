"""MIDI files to a TFRecord file of note_seq NoteSequences, as Magenta's convert_dir_to_note_sequences.

Each NoteSequence gets Magenta's fields: ``filename`` is the path relative to the input directory,
``collection_name`` the input directory's name and ``id`` ``/id/midi/<collection>/<sha1 of filename>``.
Files are parsed on every core (with :mod:`seqgen.midi_reader`, giving the same NoteSequences as
note_seq's own reading, twice as fast); records keep the sorted order of the file names.
"""

import hashlib
import multiprocessing
import os
import sys

import attrs

from seqgen import paths, tfrecord
from seqgen.errors import SeqgenError
from seqgen.progress import Progress

MIDI_SUFFIXES = (".mid", ".midi")
_BATCH = 256  # records written at once


@attrs.frozen
class ConvertResult:
    converted: int
    skipped: int  # files that are not MIDI files
    failed: tuple  # (relative path, reason) of MIDI files that could not be read
    labelled: int = 0  # files that a row of --metadata_csv labelled


def find_files(input_dir: str, recursive: bool):
    """``(MIDI paths, other paths, directories not searched)``, relative to ``input_dir``, sorted."""
    midi, other, unsearched = [], [], 0
    for root, dirs, files in os.walk(input_dir):
        dirs.sort()
        if not recursive:
            unsearched = len(dirs)
            dirs.clear()
        for name in sorted(files):
            relative = os.path.relpath(os.path.join(root, name), input_dir)
            (midi if name.lower().endswith(MIDI_SUFFIXES) else other).append(relative)
    return midi, other, unsearched


def sequence_id(filename: str, collection_name: str) -> str:
    """Magenta's NoteSequence id of a MIDI file."""
    return f"/id/midi/{collection_name}/{hashlib.sha1(filename.encode('utf-8')).hexdigest()}"


def convert_file(input_dir: str, relative: str, metadata=None):
    """``(serialized NoteSequence, None)`` or ``(None, reason)`` for one MIDI file; ``metadata``, a row of
    a metadata CSV, goes into the NoteSequence (:func:`seqgen.controls.annotate`)."""
    import pretty_midi

    from seqgen.midi_reader import read_midi
    from seqgen.noteseq import midi_io

    try:
        with open(os.path.join(input_dir, relative), "rb") as stream:
            data = stream.read()
        if not data:
            return None, "empty file"
        sequence = midi_io.midi_to_note_sequence(pretty_midi.PrettyMIDI(mido_object=read_midi(data)))
    except Exception as error:  # pretty_midi and mido raise many kinds of errors on corrupt files
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return None, reason[:200]
    collection = os.path.basename(os.path.normpath(os.path.abspath(input_dir)))
    sequence.collection_name = collection
    sequence.filename = relative
    sequence.id = sequence_id(relative, collection)
    if metadata:
        from seqgen.controls import annotate

        annotate(sequence, metadata)
    return sequence.SerializeToString(), None


def _convert_task(task):
    return convert_file(*task)


def pool_context():
    """Fork when it is safe (no TensorFlow threads in this process), else forkserver."""
    method = "fork" if "tensorflow" not in sys.modules and sys.platform == "linux" else "forkserver"
    return multiprocessing.get_context(method)


def convert_directory(input_dir, output_file, recursive=False, overwrite=False, workers=None,
                      warn=None, metadata_csv=None) -> ConvertResult:
    """Convert every MIDI file of ``input_dir`` into ``output_file``; corrupt files are reported to ``warn``.
    With ``metadata_csv``, each file's row (by its path relative to ``input_dir``) goes into its
    NoteSequence; a CSV that names none of the files is refused before anything is written."""
    warn = warn or (lambda message: print(message, file=sys.stderr))
    input_dir, output_file = str(input_dir), str(output_file)
    if not os.path.exists(input_dir):
        raise SeqgenError(f"--input_dir {input_dir} does not exist; give the directory of MIDI files")
    if not os.path.isdir(input_dir):
        raise SeqgenError(f"--input_dir {input_dir} is a file, not a directory; give the directory of MIDI files")
    paths.check_output_file(output_file, "--output_file")
    if os.path.exists(output_file) and not overwrite:
        raise SeqgenError(f"{output_file} already exists; pass --overwrite to replace it, or choose another "
                          f"--output_file")
    midi, other, unsearched = find_files(input_dir, recursive)
    if not midi:
        hint = f"; {unsearched} subdirectories were not searched: pass --recursive" if unsearched else ""
        raise SeqgenError(f"no MIDI files (.mid, .midi) in {input_dir}{hint}")
    rows = {}
    if metadata_csv:
        from seqgen.controls import load_metadata_csv

        rows = load_metadata_csv(metadata_csv)
        if not any(os.path.normpath(relative) in rows for relative in midi):
            raise SeqgenError(f"--metadata_csv {metadata_csv} names none of the {len(midi)} MIDI files in "
                              f"{input_dir} (e.g. {midi[0]}); its midi_filename paths must be relative to "
                              f"--input_dir")
    workers = workers or min(os.cpu_count() or 1, len(midi))
    tasks = [(input_dir, relative, rows.get(os.path.normpath(relative))) for relative in midi]
    failed, batch = [], []
    paths.make_dir(os.path.dirname(os.path.abspath(output_file)), "the folder of --output_file")
    with tfrecord.RecordWriter(output_file) as writer, \
            Progress(len(midi), "convert", unit="file") as progress:
        if workers > 1:
            pool = pool_context().Pool(workers)
            results = pool.imap(_convert_task, tasks, chunksize=8)
        else:
            pool, results = None, map(_convert_task, tasks)
        try:
            for relative, (record, reason) in zip(midi, results):
                if record is None:
                    failed.append((relative, reason))
                else:
                    batch.append(record)
                    if len(batch) >= _BATCH:
                        writer.write_many(batch)
                        batch = []
                progress.update()
            writer.write_many(batch)
            if not writer.count:  # leave no empty record file behind (and keep the one --overwrite names)
                first, reason = failed[0]
                raise SeqgenError(f"none of the {len(midi)} MIDI files in {input_dir} could be read (the first, "
                                  f"{first}: {reason}); check that they are Standard MIDI Files")
        finally:
            if pool is not None:
                pool.terminate()
    for relative, reason in failed:
        warn(f"warning: skipped {os.path.join(input_dir, relative)}: not a readable MIDI file ({reason})")
    labelled = sum(1 for _, relative, row in tasks if row is not None) - sum(
        1 for relative, _ in failed if os.path.normpath(relative) in rows)
    return ConvertResult(converted=writer.count, skipped=len(other), failed=tuple(failed), labelled=labelled)
