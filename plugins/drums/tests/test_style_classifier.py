"""The drums plugin's style classifier (the ``style_classifier`` family, config ``drum_style``): records with
the style from ``convert --metadata_csv``, training through the shared loop, classifying in NumPy."""

import subprocess
import sys

import numpy as np
import pytest

import seqgen
from support import GROOVE
from groove_slice import copy_slice, slice_rows
from seqgen import plugins, records, training
from seqgen.cli import main
from seqgen.errors import SeqgenError
from seqgen.model import Model
from seqgen_drums.families import style as style_classifier
from seqgen_drums.families.style import inference as style_inference, network as style_network
from seqgen_drums.events.controls import STYLES

CONFIG = plugins.get_config("drum_style")
TINY = "batch_size=8,filters=[8,8],kernel_size=2,window=32,learning_rate=0.01,dropout_keep_prob=1.0"
KICKS, HATS = [frozenset({36})] * 32, [frozenset({42})] * 32


def _options(steps, seed=1):
    return training.TrainOptions(num_training_steps=steps, summary_frequency=10, save_checkpoint_secs=0, seed=seed)


def test_numpy_inference_equals_the_keras_network_and_ignores_padding():
    config = CONFIG.with_hparams("filters=[8,6,5],kernel_size=3")
    network = style_network.build_model(config)
    rng = np.random.default_rng(1)
    classes = rng.integers(0, 512, (3, 41))
    classes[1, 20:] = -1  # a shorter track, padded
    reference = np.asarray(network(classes.astype(np.int32), training=False))
    weights = config.family.weights(network)
    found = style_inference.logits(weights, config.hparams, classes)
    np.testing.assert_allclose(found, reference, atol=1e-5)
    alone = style_inference.logits(weights, config.hparams, classes[1:2, :20])
    np.testing.assert_allclose(alone[0], found[1], atol=1e-6)


def test_a_tiny_classifier_learns_two_styles_through_the_shared_loop(tmp_path):
    """Kicks on every step are "funk", closed hi-hats on every step "jazz": after 40 steps the model tells
    them apart, also shifted by a step and at another length than its training windows."""
    funk, jazz = STYLES.index("funk"), STYLES.index("jazz")
    examples = [
        records.encode_example(CONFIG.encoding.events_to_classes(track), context={"control/style": style})
        for track, style in [(KICKS * 2, funk), (HATS * 2, jazz)] * 8
    ]
    records.write_examples(tmp_path / "train.tfrecord", examples)
    config, run, lines = CONFIG.with_hparams(TINY), str(tmp_path / "run"), []
    trainer = training.train(config, run, [str(tmp_path / "train.tfrecord")], _options(40), log=lines.append)
    assert trainer.step == 40
    accuracies = [float(line.split("accuracy = ")[1].split(" ")[0]) for line in lines if "accuracy = " in line]
    assert len(accuracies) == 4 and accuracies[-1] == 1.0
    model = seqgen.load(run)
    assert model.classify_style(KICKS[:20]) == "funk"
    assert model.classify_style([frozenset()] + HATS * 3) == "jazz"
    probabilities = model.style_probabilities([KICKS, HATS, "[(36,), (), (42,)]"])
    assert probabilities.shape == (3, len(STYLES)) and np.allclose(probabilities.sum(axis=1), 1.0)
    assert probabilities[0, funk] > 0.5 and probabilities[1, jazz] > 0.5
    # The bundle classifies the same, and the model does not generate.
    model.save(tmp_path / "style.seqgen", "tiny style classifier")
    loaded = seqgen.load(str(tmp_path / "style.seqgen"))
    np.testing.assert_allclose(loaded.style_probabilities([KICKS, HATS]), probabilities[:2], atol=1e-6)
    with pytest.raises(SeqgenError, match="does not generate or score tracks; it offers: classify_style"):
        loaded.generate(1, 8)
    with pytest.raises(SeqgenError, match="empty"):
        loaded.classify_style([])
    bundle = str(tmp_path / "style.seqgen")
    code = (
        f"import sys, seqgen; print(seqgen.load({bundle!r}).classify_style('[(36,), (36,), (36,), (36,)]')); "
        "assert 'tensorflow' not in sys.modules, 'classifying imported TensorFlow'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "funk"


def test_records_without_a_style_are_refused_in_one_line(tmp_path):
    records.write_class_records(tmp_path / "plain.tfrecord", [[1, 2, 3] * 30])
    with pytest.raises(SeqgenError, match="no track of 32 steps or more with a style.*--metadata_csv"):
        training.train(
            CONFIG.with_hparams(TINY),
            str(tmp_path / "run"),
            [str(tmp_path / "plain.tfrecord")],
            _options(2),
            log=lambda line: None,
        )


def test_groove_files_become_labelled_records_and_train_with_seqgen_train(tmp_path, capsys):
    rows = [row for row in slice_rows() if row["time_signature"] == "4-4"]
    copy_slice(tmp_path / "midi", rows)
    assert (
        main(
            [
                "convert",
                "--input_dir",
                str(tmp_path / "midi"),
                "--recursive",
                "--output_file",
                str(tmp_path / "ns.tfrecord"),
                "--metadata_csv",
                str(GROOVE / "info.csv"),
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "create_dataset",
                "--config",
                "drum_style",
                "--input",
                str(tmp_path / "ns.tfrecord"),
                "--output_dir",
                str(tmp_path / "records"),
                "--split_csv",
                str(GROOVE / "info.csv"),
            ]
        )
        == 0
    )
    train_file = str(tmp_path / "records" / "train_drum_tracks.tfrecord")
    labels = [
        STYLES[int(values[0])]
        for _, values in records.control_dataset(train_file, CONFIG.encoding.num_classes, ["style"]).as_numpy_iterator()
    ]
    expected = {row["style"].split("/")[0] for row in rows if row["split"] == "train"}
    assert set(labels) <= expected and len(set(labels)) >= 3  # (a fill shorter than 4 bars is left out)
    assert (
        main(
            [
                "train",
                "--config",
                "drum_style",
                "--hparams",
                TINY,
                "--run_dir",
                str(tmp_path / "run"),
                "--sequence_example_file",
                train_file,
                "--num_training_steps",
                "5",
                "--summary_frequency",
                "5",
            ]
        )
        == 0
    )
    assert "accuracy = " in capsys.readouterr().out
    model = seqgen.load(str(tmp_path / "run"))
    assert model.config.id == "drum_style" and model.classify_style(KICKS) in STYLES
    assert isinstance(model, Model) and model.controls == ()


def test_class_balance_weighs_rare_styles_up():
    import tensorflow as tf

    styles = [0, 0, 0, 5]  # three tracks of afrobeat, one of funk: one 32-step window each
    dataset = tf.data.Dataset.from_tensor_slices((np.ones((4, 32), np.int32), np.array(styles, np.int32)))
    task = style_classifier.STYLE_TASK
    equal = task._weights(dataset, 32, 16, 1.0)
    assert equal[0] * 3 == pytest.approx(equal[5]) and not equal[1:5].any()
    assert task._weights(dataset, 32, 16, 0.0)[[0, 5]].tolist() == [1.0, 1.0]
    assert task._weights(dataset, 32, 16, 0.5)[5] / task._weights(dataset, 32, 16, 0.5)[0] == pytest.approx(3**0.5)
