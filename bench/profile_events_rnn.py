"""Where an events-RNN training step spends its time: each layer's forward and backward pass, timed alone.

Usage:
    python bench/profile_events_rnn.py                      # drum_kit defaults: one micro batch of 43 x 511
    python bench/profile_events_rnn.py --tracks 64 --runs 5

Each part runs as its own ``tf.function`` on random inputs of one micro batch's shape (speed does not
depend on the values): layer 0 (LSTM with Magenta's attention), a plain LSTM layer (layers 1 and 2), and
the output layer with the loss. "forward" runs the part; "forward + backward" also takes the gradients of
a sum of its outputs. Prints the median seconds of ``--runs`` runs after one warm-up, as JSON.
"""

import argparse
import json
import statistics
import time


def _median_seconds(function, runs):
    function()
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="drum_kit")
    parser.add_argument("--tracks", type=int, default=43, help="tracks in a micro batch (drum_kit: 3 slices of 43)")
    parser.add_argument("--steps", type=int, default=511)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dtype", default="float32", help="compute dtype of the parts (float32 or bfloat16)")
    args = parser.parse_args()

    import tensorflow as tf

    from seqgen import plugins
    from seqgen.families.events_rnn import network

    config = plugins.get_config(args.config)
    hparams = config.hparams
    size, length, classes = hparams.rnn_layer_sizes[0], hparams.attn_length, config.encoding.num_classes
    shape = [args.steps, args.tracks]
    rng = tf.random.Generator.from_seed(0)

    def weight(*dims):
        return tf.Variable(tf.cast(rng.normal(dims) * 0.05, args.dtype))

    pre = weight(*shape, 4 * size)
    attention = [
        weight(2 * size, 5 * size),
        weight(5 * size),
        weight(size, size),
        weight(2 * size, size),
        weight(size),
        weight(size),
    ]
    w_h = weight(size, 4 * size)
    hidden = weight(*shape, size)
    out_w, out_b = weight(size, classes), weight(classes)
    labels = rng.uniform(shape, maxval=classes, dtype=tf.int32)

    def attention_layer():
        return network._attention_layer(pre, *attention, length)

    def lstm_layer():
        return network._lstm_layer(pre, w_h)

    def output_layer():
        logits = tf.einsum("tbh,hc->tbc", hidden, out_w) + out_b
        return tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits)

    parts = {
        "layer 0 (attention)": (attention_layer, [pre, *attention]),
        "layer 1 or 2 (LSTM)": (lstm_layer, [pre, w_h]),
        "output layer and loss": (output_layer, [hidden, out_w, out_b]),
    }
    result = {
        "config": args.config,
        "dtype": args.dtype,
        "tracks": args.tracks,
        "steps": args.steps,
        "runs": args.runs,
        "seconds": {},
    }
    for name, (part, variables) in parts.items():
        forward = tf.function(lambda part=part: tf.reduce_sum(part()))

        @tf.function
        def forward_backward(part=part, variables=variables):
            with tf.GradientTape() as tape:
                total = tf.reduce_sum(part())
            return tape.gradient(total, variables)

        result["seconds"][name] = {
            "forward": round(_median_seconds(forward, args.runs), 3),
            "forward + backward": round(_median_seconds(forward_backward, args.runs), 3),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
