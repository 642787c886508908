"""Two training workers on 127.0.0.1 under MultiWorkerMirroredStrategy (TF_CONFIG) end in step (training the
installed toy plugin's toy_rnn)."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

from groove_slice import copy_slice, slice_rows
from seqgen import convert, pipeline, plugins
from support import installed_plugin

pytestmark = pytest.mark.slow  # the fast lane, `pytest -m "not slow"`, leaves this module out

HPARAMS = "batch_size=4,rnn_layer_sizes=[16],attn_length=3,learning_rate=0.01"

WORKER = """
import json, sys
import numpy as np
from seqgen import plugins, training

config = plugins.get_config("toy_rnn").with_hparams(sys.argv[1])
options = training.TrainOptions(num_training_steps=4, summary_frequency=2, save_checkpoint_secs=0, seed=5)
trainer = training.train(config, sys.argv[2], [sys.argv[3]], options)
np.savez(sys.argv[4], step=trainer.step, **{k.replace("/", "|"): v for k, v in
                                            config.family.weights(trainer.model).items()})
"""


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.fixture(scope="module")
def records_file(tmp_path_factory, toy):
    base = tmp_path_factory.mktemp("distributed")
    convert.convert_directory(copy_slice(base / "groove", slice_rows()[:6]), base / "ns.tfrecord", recursive=True)
    config = plugins.get_config("toy_rnn")
    _, paths = pipeline.create_dataset(
        base / "ns.tfrecord", base / "dataset", config, pipeline.SplitOptions(eval_ratio=0.0), workers=1
    )
    return str(paths["training"])


@pytest.mark.parametrize("precision", ["float32", "mixed_float16"])  # the second with Keras's loss scaling
def test_two_workers_end_with_identical_weights(records_file, tmp_path, precision):
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    run = str(tmp_path / "run")
    installed = installed_plugin(tmp_path, "toy")
    processes = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        env = {**installed, "TF_CONFIG": json.dumps(tf_config)}
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    WORKER,
                    f"{HPARAMS},precision={precision}",
                    run,
                    records_file,
                    str(tmp_path / f"w{index}.npz"),
                ],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    outputs = []
    try:
        for process in processes:
            outputs.append(process.communicate(timeout=300)[0])
    finally:
        for process in processes:
            process.kill()
    assert all(p.returncode == 0 for p in processes), outputs[0][-3000:] + outputs[1][-3000:]
    first, second = (np.load(tmp_path / f"w{index}.npz") for index in range(2))
    assert int(first["step"]) == int(second["step"]) == 4
    assert sorted(first.files) == sorted(second.files)
    for name in first.files:
        np.testing.assert_array_equal(first[name], second[name], err_msg=name)
    # Only the chief's checkpoints and run.json are kept.
    assert sorted(os.listdir(run)) == ["run.json", "train"]
    assert not [n for n in os.listdir(os.path.join(run, "train")) if n.startswith(".worker")]
    line = "Training on 2 workers (CPUs), 2 replicas in sync" + (
        "." if precision == "float32" else f", {precision} precision."
    )
    assert all(line in output for output in outputs)
    assert "Step 4:" in outputs[0]
