"""Training records: seqgen's compact class records, and Magenta's SequenceExample records.

seqgen's record is a ``tf.train.Example`` with one int64 feature ``classes``, the class of every
event of a track. A record may also carry ``values``: float features per step, a [T, F] array stored
row after row with its width F in ``value_width`` (the drums plugin's groove records: velocity and
timing of each drum), and named float ``context`` scalars (e.g. the tempo). Readers of classes alone
read such records as class records. Magenta's drum records are ``tf.train.SequenceExample``s with feature lists
``inputs`` (one float vector per step: a one-hot class followed by position features) and ``labels``
(the class of the next event); they are read into the same class sequences. Writing needs no
TensorFlow; :func:`class_dataset` builds a ``tf.data`` pipeline.
"""

import glob
import os

from seqgen import tfrecord
from seqgen.errors import SeqgenError

SEQGEN_FORMAT = "seqgen"
MAGENTA_FORMAT = "magenta"


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _int64_feature(values) -> bytes:
    packed = b"".join(_varint(v) for v in values)
    return _field(3, _field(1, packed) if packed else b"")


def _float_feature(values) -> bytes:
    import numpy as np

    packed = np.asarray(values, "<f4").tobytes()
    return _field(2, _field(1, packed) if packed else b"")


def _entry(name: str, feature: bytes) -> bytes:
    return _field(1, _field(1, name.encode("utf-8")) + _field(2, feature))


def encode_classes(classes) -> bytes:
    """The serialized ``tf.train.Example`` of one class sequence (non-negative ints)."""
    classes = [int(c) for c in classes]
    if any(c < 0 for c in classes):
        raise ValueError("classes must be non-negative")
    return _field(1, _entry("classes", _int64_feature(classes)))


VALUES, VALUE_WIDTH = "values", "value_width"
#: A control's value is the float context ``control/<name>`` (absent: unset; see seqgen.controls).
RECORD_PREFIX = "control/"


def encode_example(classes, values=None, context=None) -> bytes:
    """A seqgen record of ``classes`` [T] with optional float ``values`` [T, F] and named float scalars
    ``context``; without the others it is exactly :func:`encode_classes`'s record."""
    import numpy as np

    classes = [int(c) for c in classes]
    if any(c < 0 for c in classes):
        raise ValueError("classes must be non-negative")
    entries = _entry("classes", _int64_feature(classes))
    if values is not None:
        values = np.asarray(values, np.float32)
        if values.ndim != 2 or len(values) != len(classes) or not values.shape[1]:
            raise ValueError(f"values must be [{len(classes)}, F], got shape {list(values.shape)}")
        if not np.isfinite(values).all():
            raise ValueError("values must be finite")
        entries += _entry(VALUES, _float_feature(values.reshape(-1)))
        entries += _entry(VALUE_WIDTH, _int64_feature([values.shape[1]]))
    for name, value in sorted((context or {}).items()):
        if name in ("classes", VALUES, VALUE_WIDTH):
            raise ValueError(f"context name {name!r} is taken")
        entries += _entry(name, _float_feature([float(value)]))
    return _field(1, entries)


def add_context(record: bytes, context: dict) -> bytes:
    """``record`` (a seqgen record) with more named float scalars (appended fields merge into its features)."""
    if not context:
        return record
    return record + _field(
        1, b"".join(_entry(name, _float_feature([float(value)])) for name, value in sorted(context.items()))
    )


def write_examples(path, examples) -> None:
    """Write already-encoded records (:func:`encode_example`) to ``path``."""
    tfrecord.write_records(path, list(examples))


def write_class_records(path, sequences) -> None:
    """Write class sequences (iterables of ints) to ``path`` as seqgen records."""
    tfrecord.write_records(path, [encode_classes(s) for s in sequences])


def expand_paths(paths_or_globs) -> list:
    """Files named by a path, a glob, or a list of them; SeqgenError when one matches nothing."""
    if isinstance(paths_or_globs, (str, os.PathLike)):
        paths_or_globs = [paths_or_globs]
    files = []
    for pattern in map(str, paths_or_globs):
        matched = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        matched = [m for m in matched if os.path.isfile(m)]
        if not matched:
            raise SeqgenError(
                f"no record file matches {pattern!r}; give a TFRecord file made by "
                f"`seqgen create_dataset` (or Magenta), or a glob such as 'out/training_*.tfrecord'"
            )
        files += [m for m in matched if m not in files]
    return files


def detect_format(path, num_classes: int):
    """``(format, input_size)`` of a record file, or None for a file without records."""
    import tensorflow as tf

    record = tfrecord.first_record(path)
    if record is None:
        return None
    try:
        example = tf.train.Example.FromString(record)
        if "classes" in example.features.feature:
            classes = example.features.feature["classes"].int64_list.value
            if classes and max(classes) >= num_classes:
                raise SeqgenError(
                    f"{path} holds class {max(classes)}, but the config has only {num_classes} "
                    f"classes: were these records made for another config?"
                )
            return SEQGEN_FORMAT, None
        sequence = tf.train.SequenceExample.FromString(record)
    except Exception as error:  # protobuf's DecodeError and friends
        if isinstance(error, SeqgenError):
            raise
        raise SeqgenError(f"{path} is not a TFRecord file of training examples") from None
    lists = sequence.feature_lists.feature_list
    if "inputs" in lists and "labels" in lists and lists["inputs"].feature:
        input_size = len(lists["inputs"].feature[0].float_list.value)
        if input_size < num_classes:
            raise SeqgenError(
                f"{path} has inputs of size {input_size}, fewer than the config's {num_classes} "
                f"classes: were these records made for another config?"
            )
        return MAGENTA_FORMAT, input_size
    raise SeqgenError(
        f"{path} holds neither seqgen records (feature 'classes') nor Magenta records "
        f"(feature lists 'inputs' and 'labels')"
    )


def class_dataset(paths_or_globs, num_classes: int):
    """A ``tf.data.Dataset`` of int32 1-D class sequences from seqgen or Magenta record files.

    The format of each file is detected from its first record; files of both kinds may be mixed. To read
    training records into NumPy (one int64 array of classes per track, in record order), use
    :func:`seqgen.evaluation.read_class_sequences`; ``config.encoding.class_to_event`` turns classes
    back into events. Needs TensorFlow.
    """
    import tensorflow as tf

    groups = {}
    for path in expand_paths(paths_or_globs):
        kind = detect_format(path, num_classes)
        if kind is not None:
            groups.setdefault(kind, []).append(path)
    datasets = [_parsed(tf.data.TFRecordDataset(files), kind, num_classes) for kind, files in groups.items()]
    if not datasets:
        return tf.data.Dataset.from_generator(lambda: iter(()), output_signature=tf.TensorSpec([None], tf.int32))
    dataset = datasets[0]
    for other in datasets[1:]:
        dataset = dataset.concatenate(other)
    return dataset


def control_dataset(paths_or_globs, num_classes: int, names):
    """A ``tf.data.Dataset`` of (int32 class sequence, float32 [len(names)] control values) from seqgen or
    Magenta record files: each value is the record's ``control/<name>`` context, NaN where it has none
    (Magenta's records have none)."""
    import tensorflow as tf

    nan = float("nan")
    features = {"classes": tf.io.FixedLenSequenceFeature([], tf.int64, allow_missing=True)}
    features.update(
        {RECORD_PREFIX + name: tf.io.FixedLenFeature([1], tf.float32, default_value=[nan]) for name in names}
    )

    def parse(record):
        parsed = tf.io.parse_single_example(record, features)
        values = [parsed[RECORD_PREFIX + name] for name in names]
        values = tf.concat(values, 0) if values else tf.zeros([0], tf.float32)
        return tf.cast(parsed["classes"], tf.int32), values

    groups = {}
    for path in expand_paths(paths_or_globs):
        kind = detect_format(path, num_classes)
        if kind is not None:
            groups.setdefault(kind[0], []).append((path, kind))
    datasets = []
    for kind, files in groups.items():
        records = tf.data.TFRecordDataset([path for path, _ in files])
        if kind == SEQGEN_FORMAT:
            datasets.append(records.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True))
        else:
            for path, found in files:
                unlabelled = _parsed(tf.data.TFRecordDataset(path), found, num_classes)
                datasets.append(unlabelled.map(lambda c: (c, tf.fill([len(names)], nan))))
    if not datasets:
        return tf.data.Dataset.from_generator(
            lambda: iter(()),
            output_signature=(tf.TensorSpec([None], tf.int32), tf.TensorSpec([len(names)], tf.float32)),
        )
    dataset = datasets[0]
    for other in datasets[1:]:
        dataset = dataset.concatenate(other)
    return dataset


def _parsed(records, kind, num_classes):
    import tensorflow as tf

    if kind[0] == SEQGEN_FORMAT:
        features = {"classes": tf.io.FixedLenSequenceFeature([], tf.int64, allow_missing=True)}
        return records.map(
            lambda r: tf.cast(tf.io.parse_single_example(r, features)["classes"], tf.int32),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
    input_size = kind[1]
    sequence_features = {
        "inputs": tf.io.FixedLenSequenceFeature([input_size], tf.float32),
        "labels": tf.io.FixedLenSequenceFeature([], tf.int64),
    }

    def to_classes(record):
        _, parsed = tf.io.parse_single_sequence_example(record, sequence_features=sequence_features)
        steps = tf.argmax(parsed["inputs"][:, :num_classes], axis=1, output_type=tf.int32)
        return tf.concat([steps, tf.cast(parsed["labels"][-1:], tf.int32)], axis=0)

    return records.map(to_classes, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def _value_width(path):
    """``value_width`` of the first record of a seqgen record file (None: no values; 0: no records)."""
    import tensorflow as tf

    record = tfrecord.first_record(path)
    if record is None:
        return 0
    try:
        features = tf.train.Example.FromString(record).features.feature
    except Exception:  # protobuf's DecodeError and friends
        raise SeqgenError(f"{path} is not a TFRecord file of training examples") from None
    if VALUE_WIDTH not in features:
        return None
    return int(features[VALUE_WIDTH].int64_list.value[0])


def values_dataset(paths_or_globs, num_classes: int, value_width: int, context=()):
    """A ``tf.data.Dataset`` of ``(classes int32 [T], values float32 [T, value_width], context float32
    [len(context)])`` from seqgen records with values (:func:`encode_example`); SeqgenError naming the
    file when one holds no values or values of another width."""
    import tensorflow as tf

    files = []
    for path in expand_paths(paths_or_globs):
        width = _value_width(path)
        if width == 0:
            continue
        if width is None:
            raise SeqgenError(
                f"{path} holds class records without per-step values; make the records with "
                f"`seqgen create_dataset` and this model's config"
            )
        if width != value_width:
            raise SeqgenError(
                f"{path} holds {width} values per step, the config expects {value_width}: were "
                f"these records made for another config?"
            )
        detect_format(path, num_classes)
        files.append(path)
    spec = (
        tf.TensorSpec([None], tf.int32),
        tf.TensorSpec([None, value_width], tf.float32),
        tf.TensorSpec([len(context)], tf.float32),
    )
    if not files:
        return tf.data.Dataset.from_generator(lambda: iter(()), output_signature=spec)
    features = {
        "classes": tf.io.FixedLenSequenceFeature([], tf.int64, allow_missing=True),
        VALUES: tf.io.FixedLenSequenceFeature([], tf.float32, allow_missing=True),
    }
    features.update({name: tf.io.FixedLenFeature([1], tf.float32) for name in context})

    def parse(record):
        parsed = tf.io.parse_single_example(record, features)
        classes = tf.cast(parsed["classes"], tf.int32)
        values = tf.reshape(parsed[VALUES], [-1, value_width])
        extra = tf.concat([parsed[name] for name in context], 0) if context else tf.zeros([0], tf.float32)
        return classes, values, extra

    return tf.data.TFRecordDataset(files).map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
