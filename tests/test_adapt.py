"""seqgen adapt on the toy plugin: a random transformer adapted to a few Groove files (toy tracks) for a few
seconds, its small bundle loaded without TensorFlow, Ctrl-C, a base that is missing or different, bad input."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import seqgen
from seqgen import adapting, bundle, cli, evaluation, plugins, tfrecord
from seqgen.errors import SeqgenError
from seqgen.families.transformer.inference import random_weights
from support import GROOVE, installed_plugin

pytestmark = pytest.mark.slow  # the fast lane, `pytest -m "not slow"`, leaves this module out

#: Big enough that the adapters are a small part of it (a tiny model's manifest alone is a tenth of it).
BASE_HPARAMS = "num_layers=2,d_model=64,num_heads=2,d_ff=256,max_relative_distance=32"
FILES = sorted(str(path) for path in (GROOVE / "drummer1" / "eval_session").glob("*.mid"))


@pytest.fixture(scope="module")
def base(tmp_path_factory, toy):
    """A toy transformer of random weights, saved as a bundle."""
    config = plugins.get_config("toy_transformer").with_hparams(BASE_HPARAMS)
    path = tmp_path_factory.mktemp("base") / "base.seqgen"
    bundle.save(path, config, random_weights(config, seed=1, scale=0.1))
    return path


@pytest.fixture(scope="module")
def adapted(base, tmp_path_factory):
    """(result, path) of the base adapted to FILES for nine seconds."""
    path = tmp_path_factory.mktemp("adapted") / "mine.seqgen"
    result = adapting.adapt(FILES, str(base), path, minutes=0.15, log=lambda line: None)
    return result, path


def test_the_adapted_bundle_is_small_and_better_on_held_out_files(adapted, base, tmp_path):
    result, path = adapted
    assert result.held_out_files >= 1 and result.training_files + result.held_out_files == len(FILES)
    assert os.path.getsize(path) <= 0.1 * os.path.getsize(base)
    assert result.best_step > 0 and result.best_loss < result.base_loss
    # The same, measured independently with the NumPy models on the held-out files' tracks.
    model, base_model = seqgen.load(path), seqgen.load(base)
    by_file = adapting.read_tracks(adapting.midi_files(FILES), model.config)
    held_out = adapting.split_files(list(by_file))[1]
    (tmp_path / "held_out.tfrecord").write_bytes(tfrecord.encode_records([r for n in held_out for r in by_file[n]]))
    tracks = evaluation.read_class_sequences([str(tmp_path / "held_out.tfrecord")], model.config.encoding.num_classes)
    adapted_loss = evaluation.model_sums(model.config, model.weights, tracks)["loss_sum"]
    assert adapted_loss < evaluation.model_sums(base_model.config, base_model.weights, tracks)["loss_sum"]


def test_the_adapted_bundle_keeps_only_adapters_and_names_its_base(adapted, base):
    _, path = adapted
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read(bundle.MANIFEST))
    loaded = bundle.load(path)
    assert manifest["adapter"]["base"] == str(base)
    assert manifest["adapter"]["base_sha256"] == bundle.weights_checksum(seqgen.load(base).weights)
    assert loaded.weights and all(name.endswith(("/lora_a", "/lora_b")) for name in loaded.weights)
    # The model is the base with A @ B added to its attention and feed-forward kernels, the rest as it was.
    model, base_model = seqgen.load(path), seqgen.load(base)
    changed = {name for name in model.weights if not np.array_equal(model.weights[name], base_model.weights[name])}
    assert changed and changed <= set(model.config.family.adapted_weights(model.config))


def test_the_adapted_bundle_loads_and_generates_where_tensorflow_cannot_be_imported(adapted, tmp_path):
    _, path = adapted
    code = (
        "import sys; sys.modules['tensorflow'] = None; sys.modules['keras'] = None\n"
        f"import seqgen; m = seqgen.load({str(path)!r}); t = m.generate(2, 16, seed=1)\n"
        "assert len(t) == 2 and len(t[0]) == 16; print('ok')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=installed_plugin(tmp_path, "toy")
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_a_missing_or_different_base_is_said_in_one_line(adapted, base, tmp_path, capsys):
    _, path = adapted
    moved = tmp_path / "moved.seqgen"
    shutil.copy(base, moved)
    os.remove(base)
    try:
        with pytest.raises(SeqgenError, match=f"is adapted from the model {re.escape(str(base))}, which is missing"):
            seqgen.load(path)
        assert cli.main(["generate", "--bundle_file", str(path), "--output_dir", str(tmp_path / "out")]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "which is missing" in err[0] and not (tmp_path / "out").exists()
        config = plugins.get_config("toy_transformer").with_hparams(BASE_HPARAMS)
        bundle.save(base, config, random_weights(config, seed=2, scale=0.1))  # another model in its place
        with pytest.raises(SeqgenError, match="is a different model"):
            seqgen.load(path)
    finally:
        os.replace(moved, base)
    assert seqgen.load(path).config.id == "toy_transformer"


def test_too_few_files_train_on_all_and_report_the_training_loss(base, tmp_path, capsys):
    out = tmp_path / "two.seqgen"
    assert cli.main(["adapt", *FILES[:2], "--from", str(base), "--bundle_file", str(out), "--minutes", "0.05"]) == 0
    lines = capsys.readouterr().out
    assert "too few to hold some out for validation" in lines and "training loss" in lines
    assert "held-out" not in lines and seqgen.load(out).generate(1, 8, seed=0)


def test_ctrl_c_keeps_the_best_so_far(base, tmp_path):
    out = tmp_path / "stopped.seqgen"
    env = installed_plugin(tmp_path, "toy")
    env.pop("PYTHONUNBUFFERED", None)  # the progress lines come through a pipe as they are said
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "seqgen",
            "adapt",
            *FILES,
            "--from",
            str(base),
            "--bundle_file",
            str(out),
            "--minutes",
            "2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    lines = []
    for line in process.stdout:  # the held-out loss is logged every 6 s
        lines.append(line)
        if line.startswith("Step "):
            break
    process.send_signal(signal.SIGINT)
    out_text, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    kept = [line for line in out_text.splitlines() if line.startswith("Interrupted: kept the adapters of step")]
    assert len(kept) == 1 and err.strip().splitlines()[-1] == "seqgen adapt: interrupted"
    best_step = int(re.search(r"step (\d+) of", kept[0]).group(1))
    model = seqgen.load(out)
    changed = any(not np.array_equal(model.weights[n], seqgen.load(base).weights[n]) for n in model.weights)
    assert changed == (best_step > 0)


def _one_line_error(argv, capsys, *expected):
    code = cli.main(argv)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code in (1, 2) and len(lines) == 1, captured.err
    for text in expected:
        assert text in lines[0]
    return lines[0]


def test_bad_input_is_refused_in_one_line_and_writes_nothing(base, tmp_path, capsys):
    out = tmp_path / "out.seqgen"
    common = ["--from", str(base), "--bundle_file", str(out)]
    _one_line_error(
        ["adapt", FILES[0], "--from", "no_such_model", "--bundle_file", str(out)],
        capsys,
        "no_such_model does not exist",
        "shipped model",
    )
    _one_line_error(["adapt", FILES[0], *common, "--minutes", "0"], capsys, "--minutes", "positive")
    _one_line_error(["adapt", str(tmp_path / "nothing"), *common], capsys, "does not exist")
    (tmp_path / "empty").mkdir()
    _one_line_error(["adapt", str(tmp_path / "empty"), *common], capsys, "no MIDI files (.mid, .midi) in")
    readme = tmp_path / "notes.txt"
    readme.write_text("not music")
    _one_line_error(["adapt", str(readme), *common], capsys, "is not a MIDI file")
    # A MIDI file too short for a toy track (two bars).
    import pretty_midi

    midi = pretty_midi.PrettyMIDI()
    drums = pretty_midi.Instrument(0, is_drum=True)
    drums.notes.append(pretty_midi.Note(100, 36, 0.0, 0.1))
    midi.instruments.append(drums)
    midi.write(str(tmp_path / "short.mid"))
    _one_line_error(
        ["adapt", str(tmp_path / "short.mid"), *common],
        capsys,
        "none of the 1 MIDI files read gave a toy track",
        "shorter than min_bars=2",
    )
    assert not out.exists()
    out.write_bytes(b"mine")
    _one_line_error(["adapt", *FILES, *common], capsys, "already exists", "--overwrite")
    assert out.read_bytes() == b"mine"
    before = base.read_bytes()
    _one_line_error(
        ["adapt", *FILES, "--from", str(base), "--bundle_file", str(base), "--overwrite"],
        capsys,
        "is the model to adapt",
    )
    assert base.read_bytes() == before


def test_a_base_the_shared_loop_cannot_adapt_is_refused_in_one_line(tmp_path, capsys, toy):
    rnn = plugins.get_config("toy_rnn")
    from seqgen.families.events_rnn.inference import random_weights as rnn_weights

    bundle.save(tmp_path / "rnn.seqgen", rnn, rnn_weights(rnn))
    _one_line_error(
        ["adapt", FILES[0], "--from", str(tmp_path / "rnn.seqgen"), "--bundle_file", str(tmp_path / "out.seqgen")],
        capsys,
        "events_rnn family",
        "names no weights to adapt",
    )
    sys.path.insert(0, str(GROOVE.parents[2] / "docs" / "tutorial"))
    import seqgen_melody

    plugins.register(seqgen_melody, "melody")
    try:
        config = plugins.get_config(seqgen_melody.MELODY.id)
        bundle.save(tmp_path / "bigram.seqgen", config, config.family.initial_weights(config))
        _one_line_error(
            [
                "adapt",
                FILES[0],
                "--from",
                str(tmp_path / "bigram.seqgen"),
                "--bundle_file",
                str(tmp_path / "out.seqgen"),
            ],
            capsys,
            "counted or solved, not trained by gradient",
        )
    finally:
        plugins.unregister("melody")
    assert not (tmp_path / "out.seqgen").exists()
