"""`seqgen train` as a user runs it, in real processes (training the installed toy plugin's toy_rnn): TensorFlow's
C++ log lines stay hidden unless asked for, and a second trainer of one run dir is refused at once while `--eval`
may run beside it."""

import os
import platform
import re
import signal
import subprocess
import sys
import time

import pytest

from groove_slice import copy_slice, slice_rows
from seqgen import cli, convert, pipeline, plugins, run_dir
from seqgen.errors import SeqgenError
from support import installed_plugin

pytestmark = pytest.mark.slow  # the fast lane, `pytest -m "not slow"`, leaves this module out

HPARAMS = "batch_size=2,rnn_layer_sizes=[8],attn_length=2"
#: The lines TensorFlow's C++ libraries print on their own (oneDNN, the CPU feature guard, absl).
TF_LINES = re.compile(r"oneDNN|cpu_feature_guard|absl::InitializeLog|^[IWE]\d{4} \d\d:\d\d:", re.M)


@pytest.fixture(scope="module")
def records_file(tmp_path_factory, toy):
    """toy_rnn training records of three Groove performances."""
    base = tmp_path_factory.mktemp("train_cli")
    convert.convert_directory(
        copy_slice(base / "groove", slice_rows()[:3]), base / "ns.tfrecord", recursive=True, workers=1
    )
    config = plugins.get_config("toy_rnn").with_hparams(HPARAMS)
    _, paths = pipeline.create_dataset(
        base / "ns.tfrecord", base / "dataset", config, pipeline.SplitOptions(eval_ratio=0.0), workers=1
    )
    return str(paths["training"])


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The environment of seqgen processes with the toy plugin installed."""
    return installed_plugin(tmp_path_factory.mktemp("toy"), "toy")


def _train(run, records, installed, *flags, verbose=False, env=None):
    command = (
        [sys.executable, "-m", "seqgen"]
        + (["--verbose"] if verbose else [])
        + [
            "train",
            "--config",
            "toy_rnn",
            "--hparams",
            HPARAMS,
            "--run_dir",
            str(run),
            "--sequence_example_file",
            records,
            "--save_checkpoint_secs",
            "0",
            "--seed",
            "1",
            *flags,
        ]
    )
    environment = {
        key: value for key, value in installed.items() if key not in ("TF_CPP_MIN_LOG_LEVEL", cli.VERBOSE_VARIABLE)
    }
    return command, {**environment, "PYTHONUNBUFFERED": "1", **(env or {})}


def test_train_prints_no_tensorflow_log_lines_unless_verbose(records_file, installed, tmp_path):
    command, env = _train(tmp_path / "run", records_file, installed, "--num_training_steps", "1")
    quiet = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert quiet.returncode == 0, quiet.stderr
    assert "Training done at step 1" in quiet.stdout
    assert not TF_LINES.search(quiet.stderr), quiet.stderr
    # --verbose shows them (the resumed run also shows that the lock of the first was released)
    command, env = _train(tmp_path / "run", records_file, installed, "--num_training_steps", "2", verbose=True)
    verbose = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert verbose.returncode == 0, verbose.stderr
    assert "Resuming from checkpoint" in verbose.stdout and "Training done at step 2" in verbose.stdout
    if sys.platform == "linux" and platform.machine() == "x86_64":  # where TensorFlow's wheels print them
        assert TF_LINES.search(verbose.stderr), verbose.stderr


def test_the_environment_asks_for_the_log_lines_too(monkeypatch):
    monkeypatch.setenv(cli.VERBOSE_VARIABLE, "1")
    assert cli._tensorflow_logs_wanted(False)
    monkeypatch.delenv(cli.VERBOSE_VARIABLE)
    monkeypatch.setattr(cli, "_level_set_here", False)
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")  # the user's own setting is kept
    assert cli._tensorflow_logs_wanted(False)
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL")
    assert not cli._tensorflow_logs_wanted(False) and cli._tensorflow_logs_wanted(True)


@pytest.mark.parametrize(
    "line,hidden",
    [
        ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n", True),
        ("I0000 00:00:1795697922.700670   21397 port.cc:153] oneDNN custom operations are on.\n", True),
        ("I0000 00:00:1795697922.899070   21397 cpu_feature_guard.cc:227] This TensorFlow binary is optimized\n", True),
        (
            "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with the "
            "appropriate compiler flags.\n",
            True,
        ),
        ("F0000 00:00:1795697922.899070   21397 allocator.cc:10] Check failed\n", False),  # fatal: kept
        ("UserWarning: something Python says\n", False),
    ],
)
def test_which_lines_are_hidden(line, hidden):
    assert bool(cli._TF_LOG_LINE.match(line)) == hidden


def _wait_for(process, pattern, seconds=240):
    deadline = time.monotonic() + seconds
    lines = []
    for line in process.stdout:
        lines.append(line)
        if re.search(pattern, line) or time.monotonic() > deadline:
            return lines
    return lines


def test_a_second_trainer_is_refused_at_once_and_eval_may_run_beside(records_file, installed, tmp_path):
    run = tmp_path / "run"
    command, env = _train(
        run,
        records_file,
        installed,
        "--num_training_steps",
        "12",
        "--save_checkpoint_steps",
        "4",
        "--summary_frequency",
        "1",
    )
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = _wait_for(first, r"^Step 5:")
        assert any(line.startswith("Step 5:") for line in lines), "".join(lines)
        os.kill(first.pid, signal.SIGSTOP)  # the first holds the lock (and ckpt-4 is saved) while we look
        try:
            command, env = _train(run, records_file, installed, "--num_training_steps", "20")
            started = time.monotonic()
            second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
            assert second.returncode == 1 and time.monotonic() - started < 60
            assert re.fullmatch(
                rf"seqgen train: error: another seqgen train \(process {first.pid} on \S+\) is "
                rf"training in {re.escape(str(run))}; .*--eval may run beside it\)\n",
                second.stderr,
            )
            assert "Traceback" not in second.stderr and not second.stdout
            evaluate = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "seqgen",
                    "train",
                    "--eval",
                    "--run_dir",
                    str(run),
                    "--sequence_example_file",
                    records_file,
                    "--eval_timeout_secs",
                    "1",
                    "--num_eval_examples",
                    "4",
                ],
                env=env,
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert evaluate.returncode == 0, evaluate.stderr
            assert "Eval of ckpt-4 at step 4" in evaluate.stdout
        finally:
            os.kill(first.pid, signal.SIGCONT)
        output, errors = first.communicate(timeout=300)
    finally:
        first.kill()
    assert first.returncode == 0, errors
    assert "Training done at step 12" in output
    assert not TF_LINES.search(errors), errors
    config, weights = run_dir.load_weights(run_dir=str(run))  # the first's checkpoint is whole
    assert run_dir.latest_checkpoint(str(run)).endswith("ckpt-12") and config.hparams.batch_size == 2


def test_kill_9_releases_the_lock(tmp_path):
    run = tmp_path / "run"
    script = (
        "import sys, time\nfrom seqgen import run_dir\nwith run_dir.training_lock(sys.argv[1]):\n"
        "    print('locked', flush=True)\n    time.sleep(120)"
    )
    holder = subprocess.Popen([sys.executable, "-c", script, str(run)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(SeqgenError, match=rf"another seqgen train \(process {holder.pid} on "):
            run_dir.check_unlocked(run)
        with pytest.raises(SeqgenError, match="another seqgen train"), run_dir.training_lock(run):
            pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    run_dir.check_unlocked(run)
    with run_dir.training_lock(run):  # taken again after kill -9: a resumed run goes on
        assert f"process {os.getpid()} on" in (run / run_dir.LOCK_FILE).read_text()
