"""The dataset pipeline on Apache Beam (``--runner DirectRunner`` locally; Dataflow, Flink or Spark alike).

Each NoteSequence goes through :func:`seqgen.pipeline.process`, the same function as the local run,
so both produce the same examples; counts come back as Beam metrics. Paths may be on any file system
Beam knows (``gs://...`` with the matching Beam extra).
"""

import collections
import shlex

from seqgen import pipeline
from seqgen.errors import SeqgenError
from seqgen.version import DISTRIBUTION

_NAMESPACE = "seqgen"


def _beam():
    try:
        import apache_beam
    except ImportError:
        raise SeqgenError(f"--runner needs Apache Beam: pip install '{DISTRIBUTION}[beam]'") from None
    return apache_beam


def _output_paths(output_dir, config, options, overwrite) -> dict:
    from apache_beam.io.filesystems import FileSystems

    paths = {}
    for split in options.split_names:
        name = pipeline.output_path("", split, config)
        paths[split] = FileSystems.join(str(output_dir), name)
        if FileSystems.exists(paths[split]) and not overwrite:
            raise SeqgenError(
                f"{paths[split]} already exists; pass --overwrite to replace it, or choose another --output_dir"
            )
    if not FileSystems.exists(str(output_dir)):
        FileSystems.mkdirs(str(output_dir))
    return paths


def _process_and_count(serialized, config, options, task):
    from apache_beam.metrics import Metrics

    split, out, counts = pipeline.process(serialized, config, options, task)
    for name, value in counts.items():
        Metrics.counter(_NAMESPACE, name).inc(value)
    return split, out


def create_dataset(input_path, output_dir, config, options, runner="DirectRunner", overwrite=False, beam_options=""):
    """Run the pipeline on Beam; ``(Counter, {split: path})`` as :func:`seqgen.pipeline.create_dataset`."""
    beam = _beam()
    from apache_beam.metrics.metric import MetricsFilter
    from apache_beam.options.pipeline_options import PipelineOptions

    paths = _output_paths(output_dir, config, options, overwrite)
    beam_pipeline = beam.Pipeline(runner=runner, options=PipelineOptions(shlex.split(beam_options)))
    results = (
        beam_pipeline
        | "ReadNoteSequences" >> beam.io.ReadFromTFRecord(str(input_path), coder=beam.coders.BytesCoder())
        | "Process" >> beam.Map(_process_and_count, config, options, config.family.task)
    )
    for split, path in paths.items():
        (
            results
            | f"Select_{split}" >> beam.FlatMap(lambda result, wanted: result[1] if result[0] == wanted else [], split)
            | f"Write_{split}" >> beam.io.WriteToTFRecord(path, coder=beam.coders.BytesCoder(), shard_name_template="")
        )
    result = beam_pipeline.run()
    result.wait_until_finish()
    counts = collections.Counter(sequences_in=0)
    for counter in result.metrics().query(MetricsFilter().with_namespace(_NAMESPACE))["counters"]:
        counts[counter.key.metric.name] += counter.committed
    return counts, paths
