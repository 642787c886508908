"""Nothing lost under faults: concurrent writers, a full disk, signals, kill -9, special files and names, damaged
checkpoints. Each test runs the real `seqgen` command in its own process, as a user (or a job scheduler) would;
datasets and training are of the installed toy plugin's toy_rnn (toy_plugin.py), generating is the default model's."""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

from support import GROOVE, MAGENTA
from groove_slice import FUNK, WALTZ, copy_slice
from seqgen import convert, files, tfrecord
from seqgen.errors import SeqgenError
from support import installed_plugin

pytestmark = pytest.mark.slow  # the fast lane, `pytest -m "not slow"`, leaves this module out

HPARAMS = "batch_size=4,rnn_layer_sizes=[32],attn_length=4,dropout_keep_prob=1.0,learning_rate=0.01"
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


@pytest.fixture(scope="module", autouse=True)
def toy_installed(tmp_path_factory):
    """The seqgen processes of these tests (ENV) have the toy plugin installed."""
    ENV.update(installed_plugin(tmp_path_factory.mktemp("toy"), "toy"))


def seqgen(*args, env=None, **kwargs) -> subprocess.Popen:
    """``seqgen ARGS`` in a process of its own (its own process group, as a shell job), in ENV updated by ``env``."""
    return subprocess.Popen(
        [sys.executable, "-m", "seqgen", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**ENV, **(env or {})},
        start_new_session=True,
        **kwargs,
    )


def finish(process, timeout=240):
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def run(*args, timeout=240):
    return finish(seqgen(*args), timeout)


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def wait_for(condition, process, timeout=120):
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, finish(process)
        assert time.monotonic() < deadline
        time.sleep(0.02)


def hidden(folder):
    """seqgen's own hidden files in ``folder`` (partial files, locks)."""
    return sorted(name for name in os.listdir(folder) if name.startswith("."))


@pytest.fixture(scope="module")
def many_midi(tmp_path_factory):
    """The Groove slice eight times over (about 2,100 files; half of them in ``half``), so a conversion takes a
    while."""
    base = tmp_path_factory.mktemp("many")
    for copy in range(8):
        shutil.copytree(
            GROOVE,
            base / ("half" if copy < 4 else "rest") / f"copy{copy}",
            ignore=shutil.ignore_patterns("*.csv", "*.md", "README", "LICENSE"),
        )
    return base


@pytest.fixture(scope="module")
def slice_sequences(tmp_path_factory):
    """NoteSequences of the Groove slice."""
    base = tmp_path_factory.mktemp("slice_sequences")
    convert.convert_directory(copy_slice(base / "slice"), base / "slice.tfrecord", recursive=True)
    return base / "slice.tfrecord"


@pytest.fixture(scope="module")
def many_sequences(tmp_path_factory, slice_sequences):
    """The slice's NoteSequences 64 times over: a create_dataset of them takes a few seconds."""
    path = tmp_path_factory.mktemp("many_sequences") / "many.tfrecord"
    tfrecord.write_records(path, tfrecord.read_records(slice_sequences) * 64)
    return path


@pytest.fixture(scope="module")
def training_records(tmp_path_factory, slice_sequences, toy):
    """toy_rnn training records of the Groove slice."""
    from seqgen import pipeline, plugins

    _, paths = pipeline.create_dataset(
        slice_sequences,
        tmp_path_factory.mktemp("records"),
        plugins.get_config("toy_rnn"),
        pipeline.SplitOptions(eval_ratio=0.0),
        workers=1,
    )
    return paths["training"]


# -- one writer, or none -------------------------------------------------------------------------------


def test_a_second_convert_into_the_same_file_fails_at_once_and_replaces_nothing(many_midi, tmp_path):
    output = tmp_path / "notes.tfrecord"
    first = seqgen("convert", "--input_dir", many_midi / "half", "--recursive", "--output_file", output)
    wait_for(lambda: os.path.exists(tmp_path / ".notes.tfrecord.seqgen-lock"), first)
    code, _, err = run("convert", "--input_dir", GROOVE, "--recursive", "--output_file", output)
    assert first.poll() is None  # refused while the first was still working
    assert code == 1
    assert re.fullmatch(
        rf"seqgen convert: error: {output} is being written by another seqgen command \(process "
        rf"{first.pid} on .+\); wait for it to end, or choose another --output_file",
        one_line(err),
    )
    code, out, err = finish(first)
    assert code == 0, err
    converted = int(re.match(r"converted (\d+) MIDI files", out).group(1))
    assert converted > 1000 and tfrecord.check_file(output) == converted  # the first run's records, all of them
    assert hidden(tmp_path) == []


def test_a_second_create_dataset_into_the_same_folder_fails_at_once(many_sequences, slice_sequences, tmp_path):
    out = tmp_path / "dataset"
    args = ["create_dataset", "--config", "toy_rnn", "--output_dir", out]
    first = seqgen(*args, "--input", many_sequences)
    wait_for(lambda: os.path.exists(out / ".training_toy_tracks.tfrecord.seqgen-lock"), first)
    code, _, err = run(*args, "--input", slice_sequences)
    assert first.poll() is None
    assert code == 1 and "is being written by another seqgen command" in one_line(err)
    code, out_text, err = finish(first)
    assert code == 0, err
    counts = {split: int(n) for split, n in re.findall(r"^(\w+): (\d+) examples", out_text, re.M)}
    # Both files are the first run's: none of the second run's (smaller) set got in between.
    assert tfrecord.check_file(out / "training_toy_tracks.tfrecord") == counts["training"] > 100  # the slice: 14
    assert tfrecord.check_file(out / "eval_toy_tracks.tfrecord") == counts["eval"]
    assert hidden(out) == []


def test_two_generates_into_one_folder_at_once_keep_both_runs(tmp_path):
    out = tmp_path / "generated"
    args = ["generate", "--output_dir", out, "--num_outputs", "4", "--num_steps", "32", "--seed", "1"]
    runs = [seqgen(*args), seqgen(*args)]
    results = [finish(process) for process in runs]
    assert [code for code, _, _ in results] == [0, 0], results
    names = sorted(os.listdir(out))
    assert len(names) == 8, names
    for _, text, _ in results:  # each run names its own first and last file, and they are there
        first, last = re.search(r": (\S+\.mid) \.\. (\S+\.mid)$", text.strip()).groups()
        assert first in names and last in names
    stems = {re.match(r"(.+)_\d+\.mid$", name).group(1) for name in names}
    assert len(stems) == 2  # two run numbers (or two seconds), four files each


def test_numbered_files_skip_a_run_number_another_process_took(tmp_path):
    """The claim is made when the files are put in place: a name taken since the folder was listed is skipped
    whole, and nothing of it is replaced."""
    (tmp_path / "s_1_2.mid").write_bytes(b"theirs")
    with files.NumberedFiles(tmp_path, 3) as staged:
        for index, temporary in enumerate(staged.temporaries):
            with open(temporary, "w") as stream:
                stream.write(f"ours {index}")
        placed = staged.place(lambda run, index: f"s_{run}_{index}.mid")
    assert [os.path.basename(path) for path in placed] == ["s_2_1.mid", "s_2_2.mid", "s_2_3.mid"]
    assert (tmp_path / "s_1_2.mid").read_bytes() == b"theirs"
    assert sorted(os.listdir(tmp_path)) == ["s_1_2.mid", "s_2_1.mid", "s_2_2.mid", "s_2_3.mid"]


def test_a_file_that_appears_while_a_set_is_written_is_kept_and_the_set_not_placed(tmp_path):
    """The check that refuses an existing file is made again when the set is put in place (by os.link, which
    never replaces): a file another program wrote meanwhile is kept, and no part of the set appears."""
    first, second = tmp_path / "training.tfrecord", tmp_path / "eval.tfrecord"
    with pytest.raises(
        SeqgenError, match=f"{second} already exists; pass --overwrite to replace it, or choose another --output_dir"
    ):
        with files.OutputSet([first, second], hint="choose another --output_dir") as outputs:
            for path in (first, second):
                with open(outputs.temporary(path), "w") as stream:
                    stream.write("ours")
            second.write_text("theirs")
    assert os.listdir(tmp_path) == ["eval.tfrecord"] and second.read_text() == "theirs"


# -- kill -9: leftovers and unfinished outputs ---------------------------------------------------------


def test_after_kill_9_the_next_run_removes_the_partial_files_and_needs_no_overwrite(
    many_sequences, slice_sequences, tmp_path
):
    out = tmp_path / "dataset"
    out.mkdir()
    (out / ".notes.partial").write_text("the user's")  # looks alike, but is not seqgen's kind: kept
    (out / "draft.partial").write_text("the user's")
    args = ["create_dataset", "--config", "toy_rnn", "--output_dir", out]
    first = seqgen(*args, "--input", many_sequences)
    wait_for(lambda: any(name.endswith(".partial") and name.startswith(".training") for name in os.listdir(out)), first)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    left = [name for name in hidden(out) if name.endswith(".partial") and name != ".notes.partial"]
    assert left and not (out / "training_toy_tracks.tfrecord").exists()
    time.sleep(files._GRACE_SECONDS)
    code, _, err = run(*args, "--input", slice_sequences)
    assert code == 0, err
    assert not set(left) & set(os.listdir(out))
    assert sorted(os.listdir(out)) == [
        ".notes.partial",
        "draft.partial",
        "eval_toy_tracks.tfrecord",
        "training_toy_tracks.tfrecord",
    ]


def test_the_leftovers_of_a_killed_convert_are_removed_by_the_next_writer_in_that_folder(many_midi, tmp_path):
    first = seqgen(
        "convert", "--input_dir", many_midi / "half", "--recursive", "--output_file", tmp_path / "a.tfrecord"
    )
    wait_for(lambda: len(hidden(tmp_path)) == 2, first)  # its lock file and its partial file
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    # Its partial file and its lock (mkstemp's random letters sort the partial file either side of the lock).
    assert sorted(name.split(".")[-1] for name in hidden(tmp_path)) == ["partial", "seqgen-lock"]
    time.sleep(files._GRACE_SECONDS)
    code, _, err = run("convert", "--input_dir", GROOVE, "--recursive", "--output_file", tmp_path / "b.tfrecord")
    assert code == 0, err
    assert sorted(os.listdir(tmp_path)) == ["b.tfrecord"]


def test_a_set_left_half_in_place_by_a_killed_run_is_redone_without_overwrite(slice_sequences, tmp_path):
    """A run killed between putting its training file and its eval file in place leaves its lock note
    'placing': the next run knows the training file is unfinished and redoes the set."""
    out = tmp_path / "dataset"
    out.mkdir()
    args = ["create_dataset", "--config", "toy_rnn", "--output_dir", out, "--input", slice_sequences]
    assert run(*args)[0] == 0
    (out / "eval_toy_tracks.tfrecord").unlink()
    for name in ("training", "eval"):  # what a run killed while placing its files leaves
        (out / f".{name}_toy_tracks.tfrecord.seqgen-lock").write_text("process 1 on here\nplacing\n")
    code, _, err = run(*args)
    assert code == 0, err
    assert sorted(os.listdir(out)) == ["eval_toy_tracks.tfrecord", "training_toy_tracks.tfrecord"]
    code, _, err = run(*args)  # now finished: a new run needs --overwrite again
    assert code == 1 and "training_toy_tracks.tfrecord already exists; pass --overwrite" in one_line(err)


# -- signals ---------------------------------------------------------------------------------------------


def _interrupt(args, delay):
    process = seqgen(*args)
    time.sleep(delay)
    os.killpg(process.pid, signal.SIGINT)  # as Ctrl-C in a terminal: to the whole process group
    code, _, err = finish(process)
    return code, err


@pytest.mark.parametrize("delay", [0.3, 1.0, 2.5])
def test_ctrl_c_in_generate_is_one_line_and_exit_130(tmp_path, delay):
    out = tmp_path / "generated"
    code, err = _interrupt(["generate", "--output_dir", out, "--num_outputs", "64", "--num_steps", "4000"], delay)
    assert code == 130
    assert re.fullmatch(r"seqgen( generate)?: interrupted", one_line(err))
    assert not out.exists() or os.listdir(out) == []


@pytest.mark.parametrize("delay", [0.3, 1.0, 2.0])
def test_ctrl_c_in_convert_is_one_line_and_exit_130(many_midi, tmp_path, delay):
    code, err = _interrupt(
        ["convert", "--input_dir", many_midi, "--recursive", "--output_file", tmp_path / "notes.tfrecord"], delay
    )
    assert code == 130
    assert re.fullmatch(r"seqgen( convert)?: interrupted", one_line(err))  # the worker processes say nothing
    assert os.listdir(tmp_path) == []


def test_sigterm_in_convert_is_one_line_and_exit_143(many_midi, tmp_path):
    process = seqgen("convert", "--input_dir", many_midi, "--recursive", "--output_file", tmp_path / "notes.tfrecord")
    wait_for(lambda: os.path.exists(tmp_path / ".notes.tfrecord.seqgen-lock"), process)
    process.send_signal(signal.SIGTERM)  # to the main process only, as `timeout` does: it stops its workers
    code, _, err = finish(process)
    assert code == 143
    assert one_line(err) == "seqgen convert: stopped by SIGTERM"
    assert os.listdir(tmp_path) == []


_ENTER_SETS_UNTIL_STOPPED = """
import os, signal, sys
from seqgen import files

def stop(signum, frame):
    raise KeyboardInterrupt

signal.signal(signal.SIGTERM, stop)
folder = sys.argv[1]
paths = [os.path.join(folder, "a.tfrecord"), os.path.join(folder, "b.tfrecord")]
print("ready", flush=True)
try:
    while True:
        with files.OutputSet(paths, overwrite=True):
            pass
        with files.NumberedFiles(folder, 2) as staged:
            pass
        with files.atomic_path(os.path.join(folder, "c.mid")):
            pass
except KeyboardInterrupt:
    pass
"""


def test_a_stop_at_any_moment_of_making_an_output_leaves_no_lock_or_partial_file(tmp_path):
    """A signal that falls between making a lock or partial file and recording it for removal would leave the
    file behind: the files module holds signals across that step. Stopped at 25 moments, nothing is left."""
    for trial in range(25):
        folder = tmp_path / str(trial)
        folder.mkdir()
        process = subprocess.Popen(
            [sys.executable, "-c", _ENTER_SETS_UNTIL_STOPPED, folder], stdout=subprocess.PIPE, text=True
        )
        assert process.stdout.readline() == "ready\n"
        time.sleep(0.01 + 0.007 * trial)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        left = [name for name in os.listdir(folder) if not name.endswith(".tfrecord") and name != "c.mid"]
        assert left == [], f"stopped after {0.01 + 0.007 * trial:.3f} s"


def test_ctrl_c_in_create_dataset_is_one_line_and_exit_130(many_sequences, tmp_path):
    code, err = _interrupt(
        ["create_dataset", "--config", "toy_rnn", "--input", many_sequences, "--output_dir", tmp_path], 1.0
    )
    assert code == 130
    assert re.fullmatch(r"seqgen( create_dataset)?: interrupted", one_line(err))
    assert os.listdir(tmp_path) == []


def _train_args(run_dir, training_records):
    return [
        "train",
        "--config",
        "toy_rnn",
        "--hparams",
        HPARAMS,
        "--run_dir",
        run_dir,
        "--sequence_example_file",
        training_records,
        "--summary_frequency",
        "1",
        "--save_checkpoint_secs",
        "0",
    ]


@pytest.fixture(scope="module")
def sigterm_run(training_records, tmp_path_factory):
    """A training run stopped by SIGTERM after step 3, then resumed for two more steps: its run dir (with a
    checkpoint of each), the stopped run's exit status and output, and the resumed run's."""
    run_dir = tmp_path_factory.mktemp("sigterm") / "run"
    train = _train_args(run_dir, training_records)
    process = seqgen(*train, "--save_checkpoint_steps", "1000", "--seed", "3")
    last = 0
    for line in process.stdout:
        match = re.match(r"Step (\d+):", line)
        last = int(match.group(1)) if match else last
        if last >= 3:
            break
    process.send_signal(signal.SIGTERM)  # what a job scheduler, a container or `timeout` sends
    stopped = finish(process)
    saved = int(re.search(r"ckpt-(\d+)", (run_dir / "train" / "checkpoint").read_text()).group(1))
    (run_dir / "train" / "ckpt-9_temp").mkdir()  # what a save cut short by kill -9 leaves
    (run_dir / "train" / "ckpt-9_temp" / "part-00000-of-00001.data-00000-of-00001.tempstate123").write_bytes(b"0")
    resumed = run(*train, "--num_training_steps", saved + 2)
    return run_dir, saved, stopped, resumed


def test_sigterm_in_train_saves_a_checkpoint_and_resume_goes_on(sigterm_run):
    run_dir, saved, (code, out, err), resumed = sigterm_run
    assert code == 143
    assert one_line(err) == "seqgen train: stopped by SIGTERM"
    assert "Stopped by SIGTERM; saving a checkpoint." in out
    assert saved >= 3
    code, out, err = resumed
    assert code == 0, err
    assert f"Resuming from checkpoint {run_dir / 'train' / f'ckpt-{saved}'} at step {saved}." in out
    assert f"Training done at step {saved + 2}" in out
    assert not (run_dir / "train" / "ckpt-9_temp").exists()


# -- special files and names ------------------------------------------------------------------------------


def test_fifos_devices_sockets_and_symlink_loops_among_midi_files_are_named_and_skipped(tmp_path, monkeypatch):
    songs = tmp_path / "songs"
    songs.mkdir()
    shutil.copyfile(GROOVE / FUNK, songs / "funk.mid")
    shutil.copyfile(GROOVE / WALTZ, songs / "waltz.mid")
    os.mkfifo(songs / "fifo.mid")  # opening it would wait for a writer forever
    os.symlink("/dev/zero", songs / "zero.mid")  # reading it would never end
    os.symlink("/dev/urandom", songs / "noise.midi")
    os.symlink("loop.mid", songs / "loop.mid")
    (songs / "huge.mid").touch()
    os.truncate(songs / "huge.mid", 100_000_000)  # sparse: a regular file far larger than any MIDI file
    server = socket.socket(socket.AF_UNIX)
    monkeypatch.chdir(songs)  # a socket's path may be short only
    server.bind("socket.mid")
    # The convert's own peak memory after exec (VmHWM) and its workers' (they are forked from it), printed by
    # the convert itself: ru_maxrss of a child of pytest would count the pages it shared before exec.
    code = (
        "import re, resource, sys; from seqgen.cli import main; code = main(sys.argv[1:]); "
        "peak = int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)); "
        "print(f'PEAK {max(peak, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)}', file=sys.stderr); "
        "sys.exit(code)"
    )
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                code,
                "convert",
                "--input_dir",
                str(songs),
                "--output_file",
                str(tmp_path / "notes.tfrecord"),
            ],
            capture_output=True,
            text=True,
            env=ENV,
            timeout=120,
        )
        code, out = done.returncode, done.stdout
        err = "".join(line for line in done.stderr.splitlines(True) if not line.startswith("PEAK "))
        peak = int(re.search(r"^PEAK (\d+)$", done.stderr, re.M).group(1))
    finally:
        server.close()
    assert code == 0, err
    assert "converted 2 MIDI files" in out and "failed 6 unreadable MIDI files" in out
    assert sorted(err.strip().splitlines()) == [
        f"warning: skipped {songs / 'fifo.mid'}: it is a FIFO (named pipe), not a regular file",
        f"warning: skipped {songs / 'huge.mid'}: not a readable MIDI file (larger than 64 MB, far more than a MIDI "
        f"file holds)",
        f"warning: skipped {songs / 'loop.mid'}: it is a symlink loop (or a chain of more than 40 symlinks)",
        f"warning: skipped {songs / 'noise.midi'}: it is a character device, not a regular file",
        f"warning: skipped {songs / 'socket.mid'}: it is a socket, not a regular file",
        f"warning: skipped {songs / 'zero.mid'}: it is a character device, not a regular file",
    ]
    assert peak < 1_000_000  # KiB: well below 1 GB


def test_a_symlink_loop_given_as_input_is_named_as_such(tmp_path):
    os.symlink("songs", tmp_path / "songs")
    code, _, err = run("convert", "--input_dir", tmp_path / "songs", "--output_file", tmp_path / "notes.tfrecord")
    assert code == 1
    assert one_line(err) == (
        f"seqgen convert: error: --input_dir {tmp_path / 'songs'} is a symlink loop (or a chain "
        f"of more than 40 symlinks); give the directory of MIDI files"
    )


def test_names_of_250_bytes_are_written_in_place(tmp_path):
    songs = tmp_path / "songs"
    songs.mkdir()
    long_song = "ü" * 123 + ".mid"  # 250 bytes in UTF-8; a temporary name beside it must not be longer
    shutil.copyfile(GROOVE / FUNK, songs / long_song)
    output = tmp_path / ("n" * 241 + ".tfrecord")
    assert len(os.fsencode(long_song)) == len(output.name) == 250
    code, out, err = run("convert", "--input_dir", songs, "--output_file", output)
    assert code == 0, err
    from seqgen.noteseq import music_pb2

    [record] = tfrecord.read_records(output)
    assert music_pb2.NoteSequence.FromString(record).filename == long_song
    code, out, err = run("humanize", songs / long_song, "--output_dir", tmp_path / "played")
    assert code == 0, err
    assert os.listdir(tmp_path / "played") == [long_song]
    assert hidden(tmp_path) == []


def test_a_name_that_is_not_utf8_is_skipped_with_a_line(tmp_path):
    songs = tmp_path / "songs"
    songs.mkdir()
    shutil.copyfile(GROOVE / FUNK, songs / "funk.mid")
    with open(os.path.join(os.fsencode(songs), b"caf\xe9.mid"), "wb") as stream:  # Latin-1, not UTF-8
        stream.write((GROOVE / WALTZ).read_bytes())
    code, out, err = run("convert", "--input_dir", songs, "--output_file", tmp_path / "notes.tfrecord")
    assert code == 0, err
    assert "converted 1 MIDI files" in out
    assert one_line(err) == f"warning: skipped {songs}/caf\\xe9.mid: its name is not valid UTF-8; rename it"


def test_a_cut_checkpoint_is_named_with_the_previous_one_to_use(sigterm_run, training_records, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(sigterm_run[0], run_dir)
    before, latest = sigterm_run[1], sigterm_run[1] + 2
    data = run_dir / "train" / f"ckpt-{latest}.data-00000-of-00001"
    os.truncate(data, data.stat().st_size // 3)  # the weights survive such a cut; the optimizer's state does not
    expected = (
        rf"the checkpoint \S*ckpt-{latest} is damaged \(.+\): its files are cut short or corrupted; use the "
        rf"previous checkpoint \S*ckpt-{before} \(generate --checkpoint_file \S*ckpt-{before}; to resume "
        rf"training from it, remove the damaged \S*ckpt-{latest}\.\* files and run again\)"
    )
    code, _, err = run("generate", "--run_dir", run_dir, "--output_dir", tmp_path / "out", "--num_steps", "16")
    assert code == 1 and re.fullmatch("seqgen generate: error: " + expected, one_line(err))
    train = _train_args(run_dir, training_records)
    code, _, err = run(*train, "--num_training_steps", latest + 1)
    assert code == 1 and re.fullmatch("seqgen train: error: " + expected, one_line(err))
    for path in (run_dir / "train").glob(f"ckpt-{latest}.*"):
        path.unlink()
    code, out, err = run(*train, "--num_training_steps", before + 1)
    assert code == 0, err
    assert f"ckpt-{before} at step {before}." in out and f"Training done at step {before + 1}" in out


# -- a full disk -----------------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB tmpfs; the test is skipped (with the reason) where it cannot be mounted (not root)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0:
        pytest.skip("the full-disk tests mount a small tmpfs, which needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(disk)], capture_output=True, text=True
    )
    if mounted.returncode:
        pytest.skip(f"the full-disk tests need a small tmpfs, and mount failed: {mounted.stderr.strip()}")
    yield disk
    subprocess.run(["umount", str(disk)], check=True)


def fill(disk, leave: int) -> None:
    """Fill ``disk`` but about ``leave`` bytes."""
    free = shutil.disk_usage(disk).free
    with open(disk / "filler", "wb") as stream:
        stream.write(b"\0" * max(0, free - leave))


FULL = (
    r"no space left on the device while writing {what} \([\d.]+ (bytes|kB|MB) written\); the unfinished "
    r"output was removed and {kept}; free some space or write elsewhere"
)


def test_a_full_disk_in_convert(small_disk, tmp_path):
    output = small_disk / "notes.tfrecord"
    code, _, err = run("convert", "--input_dir", GROOVE, "--recursive", "--output_file", output)  # 4.5 MB
    assert code == 1
    assert re.fullmatch(
        "seqgen convert: error: " + FULL.format(what=re.escape(str(output)), kept="nothing was kept"), one_line(err)
    )
    assert os.listdir(small_disk) == []


def test_a_full_disk_in_create_dataset_keeps_no_half_set(small_disk, slice_sequences, tmp_path):
    args = ["create_dataset", "--config", "toy_rnn", "--input", slice_sequences, "--output_dir"]
    assert run(*args, tmp_path / "elsewhere")[0] == 0
    sizes = [os.path.getsize(tmp_path / "elsewhere" / f"{split}_toy_tracks.tfrecord") for split in ("training", "eval")]
    fill(small_disk, sizes[0] // 2 + sizes[1])  # room for the eval file, not for the training file as well
    args.append(small_disk / "dataset")
    code, _, err = run(*args)
    assert code == 1
    assert re.fullmatch(
        "seqgen create_dataset: error: "
        + FULL.format(what=".*training_toy_tracks.tfrecord, .*eval_toy_tracks.tfrecord", kept="nothing was kept"),
        one_line(err),
    )
    assert os.listdir(small_disk / "dataset") == []
    (small_disk / "filler").unlink()
    assert run(*args)[0] == 0  # no --overwrite needed: nothing was kept


def test_a_full_disk_in_generate_keeps_no_part_of_the_run(small_disk):
    fill(small_disk, 16_000)
    out = small_disk / "generated"
    code, _, err = run("generate", "--output_dir", out, "--num_outputs", "20", "--num_steps", "64")
    assert code == 1
    assert re.fullmatch(
        "seqgen generate: error: "
        + FULL.format(what=f"20 MIDI files in {re.escape(str(out))}", kept="none of them was kept"),
        one_line(err),
    )
    assert os.listdir(out) == []


def test_a_full_disk_in_humanize_keeps_no_part_of_the_run(small_disk):
    fill(small_disk, 12_000)
    out = small_disk / "played"
    code, _, err = run("humanize", GROOVE / FUNK, GROOVE / WALTZ, "--output_dir", out)
    assert code == 1
    assert re.fullmatch(
        "seqgen humanize: error: " + FULL.format(what=".*funk.*mid, .*jazz.*mid", kept="nothing was kept"),
        one_line(err),
    )
    assert os.listdir(out) == []


def test_a_full_disk_in_train_keeps_the_previous_checkpoint(small_disk, training_records, tmp_path):
    subprocess.run(["mount", "-o", "remount,size=7m", str(small_disk)], check=True)  # one checkpoint (4.4 MB) fits
    run_dir = small_disk / "run"
    big = "batch_size=4,rnn_layer_sizes=[300],dropout_keep_prob=1.0,learning_rate=0.01"  # checkpoints of 4.4 MB
    code, out, err = run(
        "train",
        "--config",
        "toy_rnn",
        "--hparams",
        big,
        "--run_dir",
        run_dir,
        "--sequence_example_file",
        training_records,
        "--save_checkpoint_secs",
        "0",
        "--save_checkpoint_steps",
        "2",
        "--num_training_steps",
        "6",
    )
    assert code == 1
    assert re.fullmatch(
        rf"seqgen train: error: no space left on the device while saving the checkpoint of step 4 in "
        rf"{run_dir}/train \(it filled the [\d.]+ (kB|MB) that were free\); the unfinished checkpoint "
        rf"was removed and the previous checkpoint {run_dir}/train/ckpt-2 is kept: run again to "
        rf"resume from it; free some space \(or keep fewer with --num_checkpoints\)",
        one_line(err),
    )
    assert sorted(os.listdir(run_dir / "train"))[:3] == ["checkpoint", "ckpt-2.data-00000-of-00001", "ckpt-2.index"]


def test_a_full_disk_in_import_bundle(small_disk):
    fill(small_disk, 20_000)
    bundle = small_disk / "drum_kit.seqgen"
    code, _, err = run(
        "import_bundle", "--mag_file", MAGENTA / "drum_kit_gmd_64x2_attn32_300steps.mag", "--bundle_file", bundle
    )
    assert code == 1
    assert re.fullmatch(
        r"seqgen import_bundle: error: " + FULL.format(what=re.escape(str(bundle)), kept="nothing was kept"),
        one_line(err),
    )
    assert os.listdir(small_disk) == ["filler"]


def test_a_full_disk_in_render_names_what_was_kept(small_disk, synthesizer):
    shutil.copyfile(GROOVE / FUNK, small_disk / "funk.mid")  # 16 bars: a WAV of about 5 MB
    # with or without FluidSynth on the PATH (the synthesizer fixture's)
    code, _, err = finish(
        seqgen("render", small_disk / "funk.mid", "--output_dir", small_disk, env={"PATH": os.environ["PATH"]})
    )
    assert code == 1
    assert re.fullmatch(
        r"seqgen render: error: " + FULL.format(what=re.escape(str(small_disk / "funk.wav")), kept="nothing was kept"),
        one_line(err),
    )
    assert os.listdir(small_disk) == ["funk.mid"]
