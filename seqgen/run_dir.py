"""Run directories: ``R/run.json`` (plugin, config, hparams, seqgen version), checkpoints in ``R/train``.

``--run_dir R`` alone is enough to find a run's config and its latest weights later.
"""

import contextlib
import json
import os
import re
import socket
import time

import attrs

from seqgen.errors import SeqgenError
from seqgen.files import atomic_path
from seqgen.version import __version__

RUN_FILE = "run.json"
LOCK_FILE = "train.lock"


def check_run(run_dir, config) -> list:
    """Whether ``config`` may train in ``run_dir``, writing nothing: SeqgenError for a run dir that is a file
    or holds a run of another config, family or architecture; else the hparams that change (``name=value``)."""
    path = os.path.join(run_dir, RUN_FILE)
    if os.path.isdir(path) or (os.path.exists(run_dir) and not os.path.isdir(run_dir)):
        raise SeqgenError(f"--run_dir {run_dir} is not a directory; give a directory for the run")
    if not os.path.exists(path):
        return []
    old = load_config(run_dir)
    if (old.plugin, old.id, old.model) != (config.plugin, config.id, config.model):
        raise SeqgenError(
            f"{run_dir} holds a run of config {old.id!r} ({old.model}), not {config.id!r} "
            f"({config.model}); use another --run_dir or the same --config"
        )
    differ = config.hparams.architecture_differences(old.hparams)
    if differ:
        raise SeqgenError(
            f"{run_dir} was trained with another architecture ({', '.join(differ)} differ: "
            f"{_hparams_text(old.hparams.to_dict())}); restart with those --hparams or use a "
            f"new --run_dir"
        )
    previous = old.hparams.to_dict()
    return [f"{k}={v}" for k, v in config.hparams.to_dict().items() if previous.get(k) != v]


def save_run(run_dir, config, log=print) -> None:
    """Record ``config`` in ``run_dir/run.json``. A run dir of another config, family or architecture is
    refused; other hparams (batch size, learning rate, dropout, ...) may change, with a notice."""
    path = os.path.join(run_dir, RUN_FILE)
    record = {
        "plugin": config.plugin,
        "config": config.id,
        "model": config.model,
        "hparams": config.hparams.to_dict(),
        "seqgen_version": __version__,
    }
    existed = os.path.exists(path)
    changed = check_run(run_dir, config)
    if existed:
        if not changed:
            return
        log(f"Note: {run_dir} continues with changed hparams {', '.join(changed)} (the network is unchanged).")
    os.makedirs(run_dir, exist_ok=True)
    with atomic_path(path) as temporary, open(temporary, "w") as stream:
        json.dump(record, stream, indent=2)


def _refuse(run_dir, stream):
    stream.seek(0)
    holder = stream.read().strip()
    return SeqgenError(
        f"another seqgen train{f' ({holder})' if holder else ''} is training in {run_dir}; wait for it "
        f"to end or stop it, or use another --run_dir (seqgen train --eval may run beside it)"
    )


def check_unlocked(run_dir) -> None:
    """SeqgenError at once when a trainer holds ``run_dir``'s lock (creates nothing; :func:`training_lock`
    is what takes it)."""
    try:
        import fcntl

        stream = open(os.path.join(run_dir, LOCK_FILE))
    except (ImportError, OSError):  # no flock, or no lock file: no trainer ever held it
        return
    with stream:
        try:
            fcntl.flock(stream, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _refuse(run_dir, stream) from None
        except OSError:
            return


@contextlib.contextmanager
def training_lock(run_dir):
    """Hold ``run_dir/train.lock`` while training: a second trainer of the same run dir is refused at once.

    The lock (``flock``) belongs to the open file, so the system releases it however the process ends
    (kill -9 included) and a later run resumes. The file stays; it names the last holder.
    """
    try:
        import fcntl
    except ImportError:  # no flock (Windows): no lock
        yield
        return
    os.makedirs(run_dir, exist_ok=True)
    stream = open(os.path.join(run_dir, LOCK_FILE), "a+")
    try:
        for attempt in range(20):  # another process's check_unlocked holds it for an instant
            try:
                fcntl.flock(stream, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:  # held by another process
                if attempt == 19:
                    raise _refuse(run_dir, stream) from None
                time.sleep(0.1)
            except OSError:  # a file system without locks: train unguarded, as before
                yield
                return
        stream.truncate(0)
        stream.write(f"process {os.getpid()} on {socket.gethostname()}\n")
        stream.flush()
        yield
    finally:
        stream.close()


def _hparams_text(hparams: dict) -> str:
    return ",".join(f"{k}={v}".replace(" ", "") for k, v in hparams.items())


def _read(run_dir) -> dict:
    path = os.path.join(run_dir, RUN_FILE)
    if not os.path.isfile(path):
        raise SeqgenError(
            f"{run_dir} is not a training run directory (no {RUN_FILE}); give the --run_dir that `seqgen train` wrote"
        )
    try:
        with open(path) as stream:
            record = json.load(stream)
    except (OSError, ValueError) as error:
        raise SeqgenError(f"{path} is unreadable ({error}); was it edited by hand?") from None
    if not isinstance(record, dict) or not isinstance(record.get("hparams", {}), dict):
        raise SeqgenError(f"{path} is not a seqgen run record; was it edited by hand?")
    return record


def load_config(run_dir):
    """The Config of a run, with its family and hparams."""
    from seqgen import plugins

    record = _read(run_dir)
    plugin, config_id = record.get("plugin"), record.get("config")
    if plugin and plugin not in plugins.plugin_names():
        raise plugins.not_installed(plugin, f"{run_dir} was trained with the seqgen plugin {plugin!r}")
    config = plugins.get_config(config_id, plugin or None)
    config = attrs.evolve(config, model=record.get("model", config.model))
    return attrs.evolve(config, hparams=config.family.hparams_class.from_dict(record.get("hparams", {})))


def newest_checkpoint(train_dir):
    """The checkpoint ``train_dir/checkpoint`` points at, or when its files were removed (a damaged one), the
    newest earlier one whose files are there; None when there is none."""
    import tensorflow as tf

    state = tf.train.get_checkpoint_state(train_dir)
    if state is None:
        return None
    found = [p for p in state.all_model_checkpoint_paths if os.path.isfile(p + ".index")]
    if os.path.isfile(state.model_checkpoint_path + ".index"):
        return state.model_checkpoint_path
    return found[-1] if found else None


def latest_checkpoint(run_dir) -> str:
    path = newest_checkpoint(os.path.join(run_dir, "train"))
    if path is None:
        raise SeqgenError(
            f"{run_dir}/train holds no checkpoint yet; train first (seqgen train --run_dir {run_dir} ...)"
        )
    return path


def checkpoint_prefix(path) -> str:
    """The checkpoint a path names (``R/train/ckpt-N``), given with or without its ``.index`` or ``.data-*``
    suffix: the one parser of checkpoint paths."""
    return re.sub(r"\.(index|data-\d+-of-\d+)$", "", os.fspath(path))


def check_checkpoint(path) -> str:
    """:func:`checkpoint_prefix` of ``path``; SeqgenError when no checkpoint is there."""
    prefix = checkpoint_prefix(path)
    if not os.path.isfile(prefix + ".index"):
        raise SeqgenError(
            f"no checkpoint {prefix} (expected {prefix}.index); give a checkpoint such as RUN_DIR/train/ckpt-100"
        )
    return prefix


def damaged_checkpoint(path, error) -> SeqgenError:
    """The one line for a checkpoint that cannot be read: which, why, and what to do (the previous checkpoint
    of its run, or start again)."""
    import tensorflow as tf

    folder = os.path.dirname(os.path.abspath(path))
    state = tf.train.get_checkpoint_state(folder)
    earlier = [
        p
        for p in (state.all_model_checkpoint_paths if state else [])
        if os.path.abspath(p) != os.path.abspath(path) and os.path.isfile(p + ".index")
    ]
    reason = str(error).strip().splitlines()[0][:120] if str(error).strip() else type(error).__name__
    if earlier:
        todo = (
            f"use the previous checkpoint {earlier[-1]} (generate --checkpoint_file {earlier[-1]}; to resume "
            f"training from it, remove the damaged {path}.* files and run again)"
        )
    else:
        todo = "there is no earlier checkpoint: start again with a new --run_dir"
    return SeqgenError(f"the checkpoint {path} is damaged ({reason}): its files are cut short or corrupted; {todo}")


def _check_complete(reader, path) -> None:
    """SeqgenError (:func:`damaged_checkpoint`) when the data files of checkpoint ``path`` are shorter than its
    index calls for (cut short: a disk that filled, a copy that stopped), even where the weights survived."""
    import numpy as np
    import tensorflow as tf

    from seqgen.disk_full import size_text

    dtypes = reader.get_variable_to_dtype_map()
    needed = sum(
        int(np.prod(shape)) * dtypes[key].size
        for key, shape in reader.get_variable_to_shape_map().items()
        if dtypes[key] != tf.string
    )
    held = sum(os.path.getsize(name) for name in tf.io.gfile.glob(f"{path}.data-*"))
    if held < needed:
        raise damaged_checkpoint(
            path, f"its data holds {size_text(held)} of the {size_text(needed)} its index calls for"
        )


def checkpoint_key(name: str) -> str:
    """The key under which a weight named ``name`` lives in a checkpoint (TensorFlow escapes '/' and '.')."""
    return "weights/" + name.replace(".", "..").replace("/", ".S") + "/.ATTRIBUTES/VARIABLE_VALUE"


def load_weights(run_dir=None, checkpoint_file=None) -> tuple:
    """``(config, weights dict)`` from a run's latest checkpoint or from one ``checkpoint_file``
    (``R/train/ckpt-N``, with or without ``.index``) of a run."""
    import tensorflow as tf

    if checkpoint_file:
        checkpoint_file = check_checkpoint(checkpoint_file)
        run_dir = run_dir or os.path.dirname(os.path.dirname(os.path.abspath(checkpoint_file)))
    config = load_config(run_dir)
    path = checkpoint_file or latest_checkpoint(run_dir)
    try:
        reader = tf.train.load_checkpoint(path)
    except Exception as error:  # TensorFlow raises many kinds for a damaged checkpoint
        raise damaged_checkpoint(path, error) from None
    _check_complete(reader, path)
    expected = {name: tuple(shape) for name, shape in config.family.variable_shapes(config).items()}
    # Checkpoints before seqgen 0.2 keyed the weights by position (weights/v<index>).
    by_position = reader.has_tensor("weights/v0/.ATTRIBUTES/VARIABLE_VALUE")
    weights = {}
    for index, (name, shape) in enumerate(expected.items()):
        key = f"weights/v{index}/.ATTRIBUTES/VARIABLE_VALUE" if by_position else checkpoint_key(name)
        if not reader.has_tensor(key):
            raise SeqgenError(
                f"{path} is not a checkpoint of this run's network (no {name}); was it written "
                f"by another seqgen version?"
            )
        try:
            weights[name] = reader.get_tensor(key)
        except (IndexError, ValueError, tf.errors.OpError) as error:  # a data file cut short or corrupted
            raise damaged_checkpoint(path, error) from None
        if tuple(weights[name].shape) != shape:
            raise SeqgenError(
                f"{path} has {name} of shape {list(weights[name].shape)}, but {run_dir}/{RUN_FILE} "
                f"calls for {list(shape)}"
            )
    return config, weights
