"""Where training runs and in which precision: the ``tf.distribute`` strategy, the chief of a cluster, the
one line naming the devices, and Keras's dtype policy with a note where it does not suit the device."""

import contextlib
import json
import os


def _num_workers() -> int:
    cluster = json.loads(os.environ.get("TF_CONFIG") or "{}").get("cluster", {})
    return len(cluster.get("worker", [])) + len(cluster.get("chief", []))


def choose_strategy():
    """MultiWorkerMirroredStrategy when TF_CONFIG names several workers, MirroredStrategy on several
    local GPUs, else the default strategy (one GPU if present, else the CPU)."""
    import tensorflow as tf

    if _num_workers() > 1:
        return tf.distribute.MultiWorkerMirroredStrategy()
    if len(tf.config.list_logical_devices("GPU")) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def has_gpu() -> bool:
    """Whether TensorFlow sees a GPU."""
    import tensorflow as tf

    return bool(tf.config.list_logical_devices("GPU"))


def describe_devices(strategy, precision: str = "float32") -> str:
    """One line saying where training runs (the CPU, which GPUs, or how many workers in sync), and in
    which precision when it is not float32."""
    import tensorflow as tf

    gpus = tf.config.list_logical_devices("GPU")
    if _num_workers() > 1:
        where = (
            f"{_num_workers()} workers ({'GPUs' if gpus else 'CPUs'}), {strategy.num_replicas_in_sync} replicas in sync"
        )
    elif gpus:
        names = [
            tf.config.experimental.get_device_details(device).get("device_name", device.name)
            for device in tf.config.list_physical_devices("GPU")
        ]
        where = f"{len(gpus)} GPU{'s' if len(gpus) > 1 else ''} ({', '.join(names)})"
        if strategy.num_replicas_in_sync > 1:
            where += f", {strategy.num_replicas_in_sync} replicas in sync"
    else:
        where = f"the CPU ({os.cpu_count()} cores; no GPU found)"
    if precision != "float32":
        where += f", {precision} precision"
    return f"Training on {where}."


def cpu_flags() -> set:
    """The CPU's feature flags from /proc/cpuinfo (Linux); empty where it cannot be read."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            return next((set(line.split(":", 1)[1].split()) for line in cpuinfo if line.startswith("flags")), set())
    except OSError:
        return set()


def precision_notice(precision: str, on_gpu: bool, flags: set) -> str:
    """A note when ``precision`` does not suit the device (CPU ``flags``), else ""."""
    if on_gpu or precision == "float32":
        return ""
    if precision == "mixed_float16":
        return (
            "Note: mixed_float16 is meant for GPUs; on a CPU it is slower than float32 "
            "(mixed_bfloat16 suits CPUs with AVX512_BF16 or AMX)."
        )
    if flags and not flags & {"avx512_bf16", "amx_bf16"}:
        return (
            "Note: this CPU has no bfloat16 instructions (AVX512_BF16, AMX): mixed_bfloat16 is emulated "
            "and may be slower than float32."
        )
    return ""


def resolve_precision(precision: str) -> str:
    """``precision``, with auto resolved: mixed_bfloat16 on a CPU with bfloat16 instructions (AVX512_BF16, AMX),
    else float32 (on an H100 the default sizes trained fastest in float32: docs/training.md)."""
    if precision != "auto":
        return precision
    return "float32" if has_gpu() or not cpu_flags() & {"avx512_bf16", "amx_bf16"} else "mixed_bfloat16"


@contextlib.contextmanager
def dtype_policy(precision: str):
    """Keras's dtype policy ``precision`` (float32, mixed_bfloat16 or mixed_float16) for the networks
    built inside: their variables are float32, their math in the policy's compute dtype."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def is_chief() -> bool:
    """Whether this process writes checkpoints and summaries (always, outside a TF_CONFIG cluster)."""
    tf_config = json.loads(os.environ.get("TF_CONFIG") or "{}")
    task = tf_config.get("task", {})
    kind, index = task.get("type", "worker"), task.get("index", 0)
    return kind == "chief" or (kind == "worker" and index == 0 and "chief" not in tf_config.get("cluster", {}))
