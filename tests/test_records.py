"""Training records: seqgen's compact records and Magenta's SequenceExamples (of the toy plugin's encoding) read
the same."""

import numpy as np
import pytest
import tensorflow as tf

from seqgen import records, tfrecord
from seqgen.crc32c import crc32c_batch
from seqgen.errors import SeqgenError
from toy_plugin import OnsetEncoding

SEQUENCES = [[0, 1, 5, 511, 0, 0, 3], [2, 2], [300] * 40]
TOY_SEQUENCES = [[0, 1, 3, 2, 0, 0, 3], [2, 2], [3] * 40]  # onset counts, with position features in the inputs


def _sequences(dataset):
    return [element.numpy().tolist() for element in dataset]


def _write_magenta(path, encoding, sequences):
    """A Magenta-style SequenceExample file, written by TensorFlow itself."""
    with tf.io.TFRecordWriter(str(path)) as writer:
        for classes in sequences:
            inputs, labels = encoding.encode([encoding.class_to_event(c) for c in classes])
            example = tf.train.SequenceExample()
            for vector in inputs:
                example.feature_lists.feature_list["inputs"].feature.add().float_list.value.extend(vector)
            for label in labels:
                example.feature_lists.feature_list["labels"].feature.add().int64_list.value.append(int(label))
            writer.write(example.SerializeToString())


def test_seqgen_records_round_trip_through_tensorflow(tmp_path):
    path = tmp_path / "train.tfrecord"
    records.write_class_records(path, SEQUENCES)
    # TensorFlow's own reader checks our CRCs and parses our hand-encoded Examples.
    for raw, classes in zip(tf.data.TFRecordDataset(str(path)), SEQUENCES):
        example = tf.train.Example.FromString(raw.numpy())
        assert list(example.features.feature["classes"].int64_list.value) == classes
        expected = tf.train.Example()
        expected.features.feature["classes"].int64_list.value.extend(classes)
        assert raw.numpy() == expected.SerializeToString()
    dataset = records.class_dataset(str(path), 512)
    assert dataset.element_spec.dtype == tf.int32
    assert _sequences(dataset) == SEQUENCES


def test_magenta_records_read_as_classes(tmp_path):
    _write_magenta(tmp_path / "magenta.tfrecord", OnsetEncoding(), TOY_SEQUENCES)
    assert _sequences(records.class_dataset(str(tmp_path / "magenta.tfrecord"), 4)) == TOY_SEQUENCES
    # Our framing reader reads files TensorFlow wrote, checksums included.
    assert len(tfrecord.read_records(tmp_path / "magenta.tfrecord")) == len(TOY_SEQUENCES)


def test_mixed_formats_and_globs(tmp_path):
    _write_magenta(tmp_path / "a_magenta.tfrecord", OnsetEncoding(), TOY_SEQUENCES[:1])
    records.write_class_records(tmp_path / "b_seqgen.tfrecord", TOY_SEQUENCES[1:])
    found = _sequences(records.class_dataset([str(tmp_path / "*.tfrecord")], 4))
    assert sorted(found) == sorted(TOY_SEQUENCES)


def test_bad_inputs_give_clear_errors(tmp_path):
    with pytest.raises(SeqgenError, match="no record file matches"):
        records.class_dataset(str(tmp_path / "missing*.tfrecord"), 512)
    records.write_class_records(tmp_path / "kit.tfrecord", SEQUENCES)
    with pytest.raises(SeqgenError, match="another config"):
        records.class_dataset(str(tmp_path / "kit.tfrecord"), 2)
    (tmp_path / "junk.tfrecord").write_bytes(b"this is a text file, not TFRecords\n" * 3)
    with pytest.raises(SeqgenError, match="junk.tfrecord"):
        tfrecord.read_records(tmp_path / "junk.tfrecord")


def test_crc_matches_known_values():
    assert crc32c_batch([b"123456789", b"", b"\0" * 32]).tolist() == [0xE3069283, 0, 0x8A9136AA]
    data = np.random.default_rng(0).integers(0, 256, 100_000, dtype=np.uint8).tobytes()
    # Splitting a buffer anywhere gives the same record content back after a round trip.
    chunks = [data[:1], data[1:70_000], data[70_000:]]
    assert tfrecord.decode_records(tfrecord.encode_records(chunks)) == chunks
