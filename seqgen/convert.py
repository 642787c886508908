"""MIDI files to a TFRecord file of note_seq NoteSequences, as Magenta's convert_dir_to_note_sequences.

Each NoteSequence gets Magenta's fields: ``filename`` is the path relative to the input directory,
``collection_name`` the input directory's name and ``id`` ``/id/midi/<collection>/<sha1 of filename>``.
Files are parsed on every core (with :mod:`seqgen.midi_reader`, giving the same NoteSequences as
note_seq's own reading, twice as fast); records keep the sorted order of the file names.
"""

import hashlib
import multiprocessing
import os
import signal
import stat
import sys

import attrs

from seqgen import files, paths, tfrecord
from seqgen.errors import SeqgenError
from seqgen.progress import Progress

MIDI_SUFFIXES = (".mid", ".midi")
MAX_MIDI_BYTES = 64_000_000  # the largest MIDI files of the Lakh dataset are below 2 MB
_BATCH = 256  # records written at once


@attrs.frozen
class ConvertResult:
    converted: int
    skipped: int  # files that are not MIDI files
    failed: tuple  # (relative path, reason) of MIDI files that could not be read
    labelled: int = 0  # files that a row of --metadata_csv labelled


def find_files(input_dir: str, recursive: bool):
    """``(MIDI paths, other paths, directories not searched, unreadable)``, relative to ``input_dir``, sorted.

    Only regular files (or symlinks to them) are taken; ``unreadable`` holds ``(relative path, why)`` of the
    MIDI names that are not (FIFOs, devices, sockets, symlink loops) and of names that are not UTF-8, which
    a NoteSequence cannot hold. None of them is opened.
    """
    midi, other, unsearched, unreadable = [], [], 0, []
    for root, dirs, names in os.walk(input_dir):
        dirs.sort()
        if not recursive:
            unsearched = len(dirs)
            dirs.clear()
        for name in sorted(names):
            relative = os.path.relpath(os.path.join(root, name), input_dir)
            if not name.lower().endswith(MIDI_SUFFIXES):
                other.append(relative)
                continue
            why = _why_unreadable(os.path.join(root, name), relative)
            if why:
                unreadable.append((relative, why))
            else:
                midi.append(relative)
    return midi, other, unsearched, unreadable


def _why_unreadable(path: str, relative: str):
    """Why the MIDI file at ``path`` is skipped without being opened, or None."""
    try:
        relative.encode("utf-8")
    except UnicodeEncodeError:
        return "its name is not valid UTF-8; rename it"
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return f"it {paths.why_missing(path)}"
    if not stat.S_ISREG(mode):
        return f"it is {paths.special_kind(mode)}, not a regular file"
    return None


def shown(path: str) -> str:
    """``path`` as text that can be printed, undecodable bytes as escapes."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


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
        data = _read_regular_file(os.path.join(input_dir, relative))
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


def _read_regular_file(path) -> bytes:
    """The bytes of ``path``: opened without waiting (a FIFO put there since it was listed does not block),
    read only when it is a regular file of at most ``MAX_MIDI_BYTES`` (and never more, should it grow)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    with open(fd, "rb") as stream:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SeqgenError(f"it is {paths.special_kind(info.st_mode)}, not a regular file")
        data = stream.read(MAX_MIDI_BYTES + 1) if info.st_size <= MAX_MIDI_BYTES else None
    if data is None or len(data) > MAX_MIDI_BYTES:
        raise SeqgenError(f"larger than {MAX_MIDI_BYTES // 1_000_000} MB, far more than a MIDI file holds")
    return data


def _convert_task(task):
    return convert_file(*task)


def pool_context():
    """Fork when it is safe (no TensorFlow threads in this process), else forkserver."""
    method = "fork" if "tensorflow" not in sys.modules and sys.platform == "linux" else "forkserver"
    return multiprocessing.get_context(method)


def quiet_worker(initializer=None, *args) -> None:
    """Start a pool worker that leaves Ctrl-C to its parent (which stops the pool and says so in one line)
    and ends quietly on the SIGTERM the pool stops it with; then run ``initializer(*args)``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):  # not on Windows
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    if initializer is not None:
        initializer(*args)


def worker_pool(workers: int, initializer=None, initargs=()):
    """A pool of :func:`quiet_worker` processes (signals held back while they start, so none is caught
    before it is ready)."""
    if not hasattr(signal, "pthread_sigmask"):  # not on Windows
        return pool_context().Pool(workers, quiet_worker, (initializer, *initargs))
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        return pool_context().Pool(workers, quiet_worker, (initializer, *initargs))
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


def convert_directory(
    input_dir, output_file, recursive=False, overwrite=False, workers=None, warn=None, metadata_csv=None
) -> ConvertResult:
    """Convert every MIDI file of ``input_dir`` into ``output_file``; corrupt files are reported to ``warn``.
    With ``metadata_csv``, each file's row (by its path relative to ``input_dir``) goes into its
    NoteSequence; a CSV that names none of the files is refused before anything is written."""
    warn = warn or (lambda message: print(message, file=sys.stderr))
    input_dir, output_file = str(input_dir), str(output_file)
    if not os.path.exists(input_dir):
        raise SeqgenError(f"--input_dir {input_dir} {paths.why_missing(input_dir)}; give the directory of MIDI files")
    if not os.path.isdir(input_dir):
        raise SeqgenError(f"--input_dir {input_dir} is a file, not a directory; give the directory of MIDI files")
    paths.check_output_file(output_file, "--output_file")
    rows = {}
    if metadata_csv:
        from seqgen.controls import load_metadata_csv

        rows = load_metadata_csv(metadata_csv)
    paths.make_dir(os.path.dirname(os.path.abspath(output_file)), "the folder of --output_file")
    with files.OutputSet([output_file], overwrite, hint="choose another --output_file") as output:
        midi, other, unsearched, unreadable = find_files(input_dir, recursive)
        for relative, why in unreadable:
            warn(f"warning: skipped {shown(os.path.join(input_dir, relative))}: {why}")
        if not midi:
            hint = f"; {unsearched} subdirectories were not searched: pass --recursive" if unsearched else ""
            raise SeqgenError(f"no {'readable ' * bool(unreadable)}MIDI files (.mid, .midi) in {input_dir}{hint}")
        labels = [rows.get(os.path.normpath(relative)) for relative in midi]
        if rows and not any(labels):
            raise SeqgenError(
                f"--metadata_csv {metadata_csv} names none of the {len(midi)} MIDI files in "
                f"{input_dir} (e.g. {midi[0]}); its midi_filename paths must be relative to "
                f"--input_dir"
            )
        with open(output.temporary(output_file), "wb") as stream:
            converted, failed = _convert_all(input_dir, midi, labels, stream, workers)
    for relative, reason in failed:
        warn(f"warning: skipped {os.path.join(input_dir, relative)}: not a readable MIDI file ({reason})")
    failed_names = {relative for relative, _ in failed}
    labelled = sum(1 for relative, row in zip(midi, labels) if row is not None and relative not in failed_names)
    return ConvertResult(converted=converted, skipped=len(other), failed=tuple(failed + unreadable), labelled=labelled)


def _write(stream, records) -> int:
    stream.write(tfrecord.encode_records(records))
    return len(records)


def _convert_all(input_dir, midi, labels, stream, workers):
    """Convert the files ``midi`` (with their metadata rows ``labels``) into the open record file ``stream``;
    ``(converted, failed)``."""
    workers = workers or min(os.cpu_count() or 1, len(midi))
    tasks = [(input_dir, relative, row) for relative, row in zip(midi, labels)]
    failed, batch, converted = [], [], 0
    with Progress(len(midi), "convert", unit="file") as progress:
        if workers > 1:
            pool = worker_pool(workers)
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
                    converted += _write(stream, batch)
                    batch = []
                progress.update()
            converted += _write(stream, batch)
            if not converted:  # leave no empty record file behind (and keep the one --overwrite names)
                first, reason = failed[0]
                raise SeqgenError(
                    f"none of the {len(midi)} MIDI files in {input_dir} could be read (the first, "
                    f"{first}: {reason}); check that they are Standard MIDI Files"
                )
        finally:
            if pool is not None:
                pool.terminate()
    return converted, failed
