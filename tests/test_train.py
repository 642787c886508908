"""seqgen train on toy tracks (toy_plugin.py) of a small slice of the Groove data: learning, summaries, checkpoints,
resume after kill -9, eval with a tiny eval set, Magenta-format records, run directories."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

import seqgen

from groove_slice import copy_slice
from seqgen import cli, convert, pipeline, plugins, records, run_dir, training
from seqgen.errors import SeqgenError
from support import installed_plugin

pytestmark = pytest.mark.slow  # the fast lane, `pytest -m "not slow"`, leaves this module out

HPARAMS = "batch_size=4,rnn_layer_sizes=[32],attn_length=4,dropout_keep_prob=1.0,learning_rate=0.01"
SUMMARIES = {
    "loss",
    "metrics/perplexity",
    "metrics/accuracy",
    "metrics/event_accuracy",
    "metrics/no_event_accuracy",
    "metrics/loss_per_step",
    "metrics/perplexity_per_step",
}


@pytest.fixture(scope="module")
def CONFIG(toy):
    """toy_rnn, small, with attention."""
    return plugins.get_config("toy_rnn").with_hparams(HPARAMS)


@pytest.fixture(scope="module")
def data(tmp_path_factory, CONFIG):
    """Toy tracks of the Groove slice: a training file and a two-track eval file (< one batch)."""
    base = tmp_path_factory.mktemp("train_data")
    convert.convert_directory(copy_slice(base / "groove"), base / "ns.tfrecord", recursive=True)
    _, paths = pipeline.create_dataset(
        base / "ns.tfrecord", base / "dataset", CONFIG, pipeline.SplitOptions(eval_ratio=0.0), workers=1
    )
    tracks = [t.numpy() for t in records.class_dataset(paths["training"], 4)]
    records.write_class_records(base / "eval.tfrecord", tracks[:2])
    return {"train": str(paths["training"]), "eval": str(base / "eval.tfrecord"), "tracks": tracks, "base": base}


def _options(**overrides):
    values = dict(num_training_steps=30, summary_frequency=5, save_checkpoint_secs=0, save_checkpoint_steps=10, seed=1)
    values.update(overrides)
    return training.TrainOptions(**values)


@pytest.fixture(scope="module")
def trained(data, CONFIG):
    run = str(data["base"] / "run")
    lines = []
    training.train(CONFIG, run, [data["train"]], _options(), log=lines.append)
    return run, lines


def _losses(lines):
    return [float(m.group(1)) for m in (re.search(r"loss = ([\d.]+)", line) for line in lines) if m]


def _summaries(directory):
    found = {}
    for name in tf.io.gfile.glob(os.path.join(directory, "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(name):
            for value in event.summary.value:
                found.setdefault(value.tag, []).append((event.step, float(tf.make_ndarray(value.tensor))))
    return found


def test_tracks_come_from_the_groove_slice(data):
    assert len(data["tracks"]) >= 8
    assert all(len(t) >= 2 * 16 for t in data["tracks"])  # min_bars=2 of 16 steps


def test_a_tiny_run_learns_and_logs_speed(trained):
    run, lines = trained
    losses = _losses(lines)
    assert len(losses) == 6
    # From log(4) = 1.39 for an untrained guess, still falling after step 5.
    assert np.mean(losses[-2:]) < min(losses[0] - 0.3, np.log(4) - 0.3), losses
    assert all("steps/sec" in line for line in lines if "loss =" in line)


def test_summaries_have_magentas_names(trained):
    run, _ = trained
    found = _summaries(os.path.join(run, "train"))
    assert set(found) == SUMMARIES
    assert [step for step, _ in found["loss"]] == [5, 10, 15, 20, 25, 30]
    for (_, loss), (_, perplexity) in zip(found["loss"], found["metrics/perplexity"]):
        assert perplexity == pytest.approx(np.exp(loss), rel=1e-5)


def test_checkpoints_on_schedule_resume_and_load(trained, data, CONFIG):
    run, _ = trained
    state = tf.train.get_checkpoint_state(os.path.join(run, "train"))
    assert [os.path.basename(p) for p in state.all_model_checkpoint_paths] == ["ckpt-10", "ckpt-20", "ckpt-30"]
    lines = []
    trainer = training.train(CONFIG, run, [data["train"]], _options(num_training_steps=32), log=lines.append)
    assert lines[0].startswith("Resuming from checkpoint") and "ckpt-30 at step 30" in lines[0]
    assert lines[1] == f"Training on the CPU ({os.cpu_count()} cores; no GPU found)."
    assert trainer.step == 32
    config, weights = run_dir.load_weights(run_dir=run)
    assert config.hparams == CONFIG.hparams and config.id == "toy_rnn"
    np.testing.assert_array_equal(
        weights["fully_connected/biases"], trainer.model.variables_by_name()["fully_connected/biases"].numpy()
    )
    _, older = run_dir.load_weights(checkpoint_file=os.path.join(run, "train", "ckpt-30.index"))
    assert not np.array_equal(older["fully_connected/biases"], weights["fully_connected/biases"])


def test_restart_with_another_architecture_is_refused(trained, data, CONFIG):
    run, _ = trained
    with pytest.raises(SeqgenError, match="another architecture .rnn_layer_sizes differ"):
        training.train(CONFIG.with_hparams("rnn_layer_sizes=[64]"), run, [data["train"]], _options())


def test_resume_with_a_smaller_batch_and_another_learning_rate_goes_on_with_a_notice(trained, data, tmp_path, CONFIG):
    run = tmp_path / "run"
    shutil.copytree(trained[0], run)
    lines = []
    config = CONFIG.with_hparams("batch_size=2,learning_rate=0.005")
    trainer = training.train(config, str(run), [data["train"]], _options(num_training_steps=33), log=lines.append)
    assert lines[0] == (
        f"Note: {run} continues with changed hparams batch_size=2, learning_rate=0.005 (the network is unchanged)."
    )
    assert lines[1].startswith("Resuming from checkpoint") and trainer.step == 33
    assert run_dir.load_config(run).hparams.batch_size == 2
    # The new learning rate is used, not the one saved with the optimizer in the checkpoint.
    assert float(trainer.optimizer.learning_rate) == pytest.approx(0.005)


def test_eval_with_an_eval_set_smaller_than_one_batch(trained, data, CONFIG):
    run, _ = trained
    lines = []
    assert training.evaluate(CONFIG, run, [data["eval"]], timeout_secs=0.5, poll_secs=0.1, log=lines.append) == 1
    found = _summaries(os.path.join(run, "eval"))
    assert SUMMARIES <= set(found)
    step, loss = found["loss"][-1]
    assert step == 32 and 0 < loss < np.log(4)  # below an untrained guess
    labels = sum(len(t) - 1 for t in data["tracks"][:2])
    assert f"on {labels} labels" in lines[0]


def _magenta_record(classes, encoding) -> bytes:
    inputs = encoding.inputs_from_classes(classes[:-1])
    example = tf.train.SequenceExample()
    for row in inputs:
        example.feature_lists.feature_list["inputs"].feature.add().float_list.value.extend(row)
    for label in classes[1:]:
        example.feature_lists.feature_list["labels"].feature.add().int64_list.value.append(int(label))
    return example.SerializeToString()


def test_magenta_records_train_and_evaluate_like_seqgen_records(trained, data, tmp_path, CONFIG):
    run, _ = trained
    magenta_file = str(tmp_path / "magenta.tfrecord")
    with tf.io.TFRecordWriter(magenta_file) as writer:
        for track in data["tracks"][:2]:
            writer.write(_magenta_record(track, CONFIG.encoding))
    trainer = training.Trainer(CONFIG)
    trainer.checkpoint.restore(run_dir.latest_checkpoint(run)).expect_partial()
    by_format = [
        trainer.evaluate(trainer.distribute(CONFIG.family.task.dataset(CONFIG, [f]), training=False))
        for f in (magenta_file, data["eval"])
    ]
    assert by_format[0] == pytest.approx(by_format[1], rel=1e-6)
    lines = []
    training.train(
        CONFIG,
        str(tmp_path / "run"),
        [magenta_file],
        _options(num_training_steps=2, summary_frequency=1),
        log=lines.append,
    )
    assert len(_losses(lines)) == 2


def test_micro_batches_give_the_same_step(data, CONFIG):
    """Slicing the batch to bound memory changes nothing but float rounding."""
    results = []
    for micro_batch_size in (0, 1):
        trainer = training.Trainer(CONFIG, seed=4, micro_batch_size=micro_batch_size)
        batch = next(iter(trainer.distribute(CONFIG.family.task.dataset(CONFIG, [data["train"]]), True, seed=4)))
        sums = trainer.train_step(batch)
        results.append((sums, trainer.model.variables_by_name()["fully_connected/weights"].numpy()))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-5)
    np.testing.assert_allclose(results[0][1], results[1][1], atol=1e-6)


TRANSFORMER_HPARAMS = "batch_size=4,num_layers=1,d_model=16,num_heads=2,d_ff=32,dropout=0,learning_rate=0.01"


@pytest.mark.parametrize("config_id, hparams", [("toy_rnn", HPARAMS), ("toy_transformer", TRANSFORMER_HPARAMS)])
def test_kill_9_loses_at_most_one_interval(data, tmp_path, config_id, hparams):
    run = str(tmp_path / "run")
    command = [
        sys.executable,
        "-m",
        "seqgen",
        "train",
        "--config",
        config_id,
        "--hparams",
        hparams,
        "--run_dir",
        run,
        "--sequence_example_file",
        data["train"],
        "--summary_frequency",
        "1",
        "--save_checkpoint_secs",
        "0",
        "--save_checkpoint_steps",
        "4",
        "--seed",
        "2",
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**installed_plugin(tmp_path, "toy"), "PYTHONUNBUFFERED": "1"},
    )
    last_step = 0
    deadline = time.monotonic() + 240
    try:
        for line in process.stdout:
            match = re.match(r"Step (\d+):", line)
            if match:
                last_step = int(match.group(1))
            if last_step >= 13 or time.monotonic() > deadline:
                break
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert last_step >= 13
    saved = int(run_dir.latest_checkpoint(run).rsplit("-", 1)[1])
    assert last_step - 4 <= saved <= last_step + 1  # at most one interval lost
    run_dir.load_weights(run_dir=run)  # the checkpoint the index points at is complete
    lines = []
    config = plugins.get_config(config_id).with_hparams(hparams)
    trainer = training.train(config, run, [data["train"]], _options(num_training_steps=saved + 1), log=lines.append)
    assert f"at step {saved}" in lines[0] and trainer.step == saved + 1
    # The resumed run's model, as a bundle, scores exactly as the run dir's.
    model = seqgen.load(run)
    model.save(tmp_path / "model.seqgen")
    track = data["tracks"][0][:64]
    events = [config.encoding.class_to_event(int(c)) for c in track]
    assert seqgen.load(tmp_path / "model.seqgen").score(events) == model.score(events)
    assert model.config.model == config.model


def test_cli_errors_are_one_line(tmp_path, capsys, toy):
    assert cli.main(["train", "--run_dir", str(tmp_path / "new"), "--sequence_example_file", "x.tfrecord"]) == 1
    assert "--config is required for a new run" in capsys.readouterr().err
    assert (
        cli.main(
            [
                "train",
                "--config",
                "toy_rnn",
                "--run_dir",
                str(tmp_path / "r"),
                "--sequence_example_file",
                str(tmp_path / "none*.tfrecord"),
            ]
        )
        == 1
    )
    assert "no record file matches" in capsys.readouterr().err
    with pytest.raises(SeqgenError, match="not a training run directory"):
        run_dir.load_config(tmp_path)


def test_a_diverging_run_stops_with_one_line_and_keeps_its_last_good_checkpoint(trained, data, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(trained[0], run)
    before = tf.train.latest_checkpoint(str(run / "train"))
    code = cli.main(
        [
            "train",
            "--run_dir",
            str(run),
            "--sequence_example_file",
            data["train"],
            "--hparams",
            f"{HPARAMS},learning_rate=1e38",
            "--num_training_steps",
            "40",
            "--save_checkpoint_steps",
            "1",
        ]
    )
    error = capsys.readouterr().err.strip()
    assert code == 1 and len(error.splitlines()) == 1
    assert re.search(
        r"training diverged at step 3\d: the loss is (nan|inf).* resume from .*ckpt-3\d with a lower "
        r"learning_rate than 1e\+38",
        error,
    ), error
    # Only steps with a finite loss were saved; the checkpoint it names is the newest and its weights are finite.
    latest = tf.train.latest_checkpoint(str(run / "train"))
    assert latest != before and latest in error
    _, weights = run_dir.load_weights(checkpoint_file=latest + ".index")
    assert all(np.all(np.isfinite(w)) for w in weights.values())


def test_clipping_stays_finite_where_the_global_norm_overflows():
    """Exploding RNN gradients (seen at 1e26 in a drum_kit run) are clipped, not turned into nan."""
    normal = [tf.constant([3.0, -4.0]), tf.constant([[12.0]])]  # global norm 13
    for clip_norm in (1.0, 13.0, 100.0):
        expected, _ = tf.clip_by_global_norm(normal, clip_norm)
        for got, want in zip(training.clip_by_global_norm(normal, clip_norm), expected):
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    huge = [tf.constant([3e25, -4e25]), tf.constant([[1.2e26]])]
    assert not np.isfinite(tf.clip_by_global_norm(huge, 3.0)[0][0].numpy()).any()  # TensorFlow's own: nan
    clipped = np.concatenate([g.numpy().ravel() for g in training.clip_by_global_norm(huge, 3.0)])
    np.testing.assert_allclose(clipped, np.array([3.0, -4.0, 12.0]) * 3.0 / 13.0, rtol=1e-6)
    zeros = [tf.zeros([2]), tf.zeros([1, 1])]
    assert all(not g.numpy().any() for g in training.clip_by_global_norm(zeros, 3.0))
