"""Run directories: ``R/run.json`` (plugin, config, hparams, seqgen version), checkpoints in ``R/train``.

``--run_dir R`` alone is enough to find a run's config and its latest weights later.
"""

import json
import os

import attrs

from seqgen import __version__
from seqgen.errors import SeqgenError
from seqgen.files import atomic_path

RUN_FILE = "run.json"


def save_run(run_dir, config) -> None:
    """Record ``config`` in ``run_dir/run.json``; a run dir made with other settings is refused."""
    path = os.path.join(run_dir, RUN_FILE)
    record = {"plugin": config.plugin, "config": config.id, "hparams": config.hparams.to_dict(),
              "seqgen_version": __version__}
    if os.path.exists(path):
        old = _read(run_dir)
        if (old.get("plugin"), old.get("config")) != (config.plugin, config.id):
            raise SeqgenError(f"{run_dir} holds a run of config {old.get('config')!r}, not {config.id!r}; "
                              f"use another --run_dir or the same --config")
        if old.get("hparams") != record["hparams"]:
            changed = sorted(k for k in record["hparams"] if old.get("hparams", {}).get(k) != record["hparams"][k])
            raise SeqgenError(f"{run_dir} was trained with other hparams ({', '.join(changed)} differ: "
                              f"{_hparams_text(old.get('hparams', {}))}); restart with those --hparams or use "
                              f"a new --run_dir")
        return
    with atomic_path(path) as temporary, open(temporary, "w") as stream:
        json.dump(record, stream, indent=2)


def _hparams_text(hparams: dict) -> str:
    return ",".join(f"{k}={v}".replace(" ", "") for k, v in hparams.items())


def _read(run_dir) -> dict:
    path = os.path.join(run_dir, RUN_FILE)
    if not os.path.isfile(path):
        raise SeqgenError(f"{run_dir} is not a training run directory (no {RUN_FILE}); give the --run_dir "
                          f"that `seqgen train` wrote")
    try:
        with open(path) as stream:
            return json.load(stream)
    except (OSError, ValueError) as error:
        raise SeqgenError(f"{path} is unreadable ({error}); was it edited by hand?") from None


def load_config(run_dir):
    """The Config of a run, with its hparams."""
    from seqgen import plugins
    from seqgen.hparams import HParams

    record = _read(run_dir)
    plugin, config_id = record.get("plugin"), record.get("config")
    if plugin and plugin not in plugins.plugin_names():
        raise SeqgenError(f"{run_dir} was trained with the seqgen plugin {plugin!r}, which is not installed; "
                          f"install it and try again")
    config = plugins.get_config(config_id, plugin or None)
    return attrs.evolve(config, hparams=HParams.from_dict(record.get("hparams", {})))


def latest_checkpoint(run_dir) -> str:
    import tensorflow as tf

    path = tf.train.latest_checkpoint(os.path.join(run_dir, "train"))
    if path is None:
        raise SeqgenError(f"{run_dir}/train holds no checkpoint yet; train first (seqgen train --run_dir "
                          f"{run_dir} ...)")
    return path


def load_weights(run_dir=None, checkpoint_file=None) -> tuple:
    """``(config, weights dict)`` from a run's latest checkpoint or from one ``checkpoint_file``
    (``R/train/ckpt-N``, with or without ``.index``) of a run."""
    import tensorflow as tf

    from seqgen import network

    if checkpoint_file:
        checkpoint_file = str(checkpoint_file)
        for suffix in (".index", ".data-00000-of-00001"):
            if checkpoint_file.endswith(suffix):
                checkpoint_file = checkpoint_file[:-len(suffix)]
        if not os.path.isfile(checkpoint_file + ".index"):
            raise SeqgenError(f"no checkpoint {checkpoint_file} (expected {checkpoint_file}.index); give a "
                              f"checkpoint such as RUN_DIR/train/ckpt-100")
        run_dir = run_dir or os.path.dirname(os.path.dirname(os.path.abspath(checkpoint_file)))
    config = load_config(run_dir)
    path = checkpoint_file or latest_checkpoint(run_dir)
    reader = tf.train.load_checkpoint(path)
    shapes = network.variable_shapes(config)
    weights = {}
    for index, (name, shape) in enumerate(shapes.items()):
        key = f"weights/v{index}/.ATTRIBUTES/VARIABLE_VALUE"
        if not reader.has_tensor(key):
            raise SeqgenError(f"{path} is not a checkpoint of this run's network (no {name}); was it written "
                              f"by another seqgen version?")
        weights[name] = reader.get_tensor(key)
        if tuple(weights[name].shape) != tuple(shape):
            raise SeqgenError(f"{path} has {name} of shape {list(weights[name].shape)}, but {run_dir}/{RUN_FILE} "
                              f"calls for {list(shape)}")
    return config, weights
