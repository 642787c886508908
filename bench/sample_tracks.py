"""A record file of ``--count`` beats drawn at random of each of ``--styles`` from a drum record file (``seqgen
create_dataset``), the records copied as they are: to ask how a calibration fitted from few tracks fares
(docs/models.md, "Styles of few beats"). Usage:

    python bench/sample_tracks.py gmd/short/train_drum_tracks.tfrecord sub/1.tfrecord --count 14 --seed 1 \
        --styles funk latin jazz rock hiphop
"""

import argparse
import collections
import random

import tensorflow as tf

from seqgen.records import RECORD_PREFIX
from seqgen_drums.events.controls import DRUM_CONTROLS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("records")
    parser.add_argument("output")
    parser.add_argument("--styles", nargs="+", required=True)
    parser.add_argument("--count", type=int, default=14)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    controls = {control.name: control for control in DRUM_CONTROLS}
    beats = collections.defaultdict(list)
    for raw in tf.data.TFRecordDataset(args.records).as_numpy_iterator():
        context = tf.train.SequenceExample.FromString(raw).context.feature

        def value(name):
            feature = context.get(RECORD_PREFIX + name)
            return controls[name].from_record(feature.float_list.value[0]) if feature else None

        if value("fill") == "no" and value("style") is not None:
            beats[value("style")].append(raw)
    rng = random.Random(args.seed)
    with tf.io.TFRecordWriter(args.output) as writer:
        for style in args.styles:
            for raw in rng.sample(beats[style], args.count):
                writer.write(raw)
            print(f"{style}: {args.count} of its {len(beats[style])} beats")


if __name__ == "__main__":
    main()
