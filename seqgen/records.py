"""Training records: seqgen's compact class records, and Magenta's SequenceExample records.

seqgen's record is a ``tf.train.Example`` with one int64 feature ``classes``, the class of every
event of a track. Magenta's drum records are ``tf.train.SequenceExample``s with feature lists
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


def encode_classes(classes) -> bytes:
    """The serialized ``tf.train.Example`` of one class sequence (non-negative ints)."""
    classes = [int(c) for c in classes]
    if any(c < 0 for c in classes):
        raise ValueError("classes must be non-negative")
    packed = b"".join(_varint(c) for c in classes)
    int64_list = _field(1, packed) if packed else b""
    feature = _field(3, int64_list)
    entry = _field(1, b"classes") + _field(2, feature)
    return _field(1, _field(1, entry))


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
            raise SeqgenError(f"no record file matches {pattern!r}; give a TFRecord file made by "
                              f"`seqgen create_dataset` (or Magenta), or a glob such as 'out/training_*.tfrecord'")
        files += [m for m in matched if m not in files]
    return files


def _first_record(path):
    with open(path, "rb") as stream:
        head = stream.read(12)
        if len(head) < 12:
            return None
        length = int.from_bytes(head[:8], "little")
        return stream.read(length)


def detect_format(path, num_classes: int):
    """``(format, input_size)`` of a record file, or None for a file without records."""
    import tensorflow as tf

    record = _first_record(path)
    if record is None:
        return None
    try:
        example = tf.train.Example.FromString(record)
        if "classes" in example.features.feature:
            classes = example.features.feature["classes"].int64_list.value
            if classes and max(classes) >= num_classes:
                raise SeqgenError(f"{path} holds class {max(classes)}, but the config has only {num_classes} "
                                  f"classes: were these records made for another config?")
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
            raise SeqgenError(f"{path} has inputs of size {input_size}, fewer than the config's {num_classes} "
                              f"classes: were these records made for another config?")
        return MAGENTA_FORMAT, input_size
    raise SeqgenError(f"{path} holds neither seqgen records (feature 'classes') nor Magenta records "
                      f"(feature lists 'inputs' and 'labels')")


def class_dataset(paths_or_globs, num_classes: int):
    """A ``tf.data.Dataset`` of int32 1-D class sequences from seqgen or Magenta record files.

    The format of each file is detected from its first record; files of both kinds may be mixed.
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


def _parsed(records, kind, num_classes):
    import tensorflow as tf

    if kind[0] == SEQGEN_FORMAT:
        features = {"classes": tf.io.FixedLenSequenceFeature([], tf.int64, allow_missing=True)}
        return records.map(lambda r: tf.cast(tf.io.parse_single_example(r, features)["classes"], tf.int32),
                           num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    input_size = kind[1]
    sequence_features = {"inputs": tf.io.FixedLenSequenceFeature([input_size], tf.float32),
                         "labels": tf.io.FixedLenSequenceFeature([], tf.int64)}

    def to_classes(record):
        _, parsed = tf.io.parse_single_sequence_example(record, sequence_features=sequence_features)
        steps = tf.argmax(parsed["inputs"][:, :num_classes], axis=1, output_type=tf.int32)
        return tf.concat([steps, tf.cast(parsed["labels"][-1:], tf.int32)], axis=0)

    return records.map(to_classes, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
