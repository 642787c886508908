"""The Beam run of create_dataset gives the same examples and counts as the local run (of toy tracks)."""

import pytest

beam = pytest.importorskip("apache_beam", reason="Apache Beam is optional: pip install -e '.[beam]'")

from groove_slice import copy_slice  # noqa: E402
from seqgen import beam_pipeline, convert, pipeline, plugins, tfrecord  # noqa: E402
from seqgen.errors import SeqgenError  # noqa: E402

pytestmark = pytest.mark.slow  # the fast lane, `pytest -m "not slow"`, leaves this module out


def test_beam_and_local_runs_agree(tmp_path, toy):
    config = plugins.get_config("toy_rnn")
    directory = copy_slice(tmp_path / "groove")
    convert.convert_directory(directory, tmp_path / "ns.tfrecord", recursive=True)
    options = pipeline.SplitOptions(eval_ratio=0.3, seed=5)
    local_counts, local = pipeline.create_dataset(tmp_path / "ns.tfrecord", tmp_path / "local", config, options)
    beam_counts, on_beam = beam_pipeline.create_dataset(
        tmp_path / "ns.tfrecord", tmp_path / "beam", config, options, runner="DirectRunner"
    )
    assert beam_counts == local_counts
    for split in local:
        expected = tfrecord.read_records(local[split])
        assert expected and sorted(tfrecord.read_records(on_beam[split])) == sorted(expected)
    with pytest.raises(SeqgenError, match="already exists"):
        beam_pipeline.create_dataset(tmp_path / "ns.tfrecord", tmp_path / "beam", config, options)
