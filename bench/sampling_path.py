"""Is what a drum transformer plays the network's, or the sampling path's? docs/models.md, "Why".

1. Samples ``--outputs`` tracks of ``--num_steps`` steps (controls ``--control`` or unset, the default
   primer, temperature 1, guidance 1) from the Keras network on the model's weights (each step recomputed
   over the whole stream) and from the NumPy stepper (:meth:`seqgen.generator.Generator.generate`), both
   drawing with the same random numbers; prints the largest difference of their logits on the Keras-sampled
   streams (fed at once and stepped one token at a time) and both sets' statistics
   (:mod:`seqgen_drums.evaluation.fidelity`).
2. Teacher forcing: on the tracks of ``--records`` (with ``--where``), each drum class's expected hit rate
   under the model's next-step distributions beside the rate the tracks have, over all steps and over
   the first bar.
3. Free running: each bar's hit rates of the NumPy-sampled tracks (where the drift starts).

Usage: python bench/sampling_path.py --records gmd/short/test_drum_tracks.tfrecord [--model drum_kit_control_gmd]
"""

import argparse

from seqgen.cli import single_blas_thread

single_blas_thread()  # as `seqgen generate` does, before NumPy loads

import numpy as np  # noqa: E402

import seqgen  # noqa: E402
from seqgen import controls as control_text  # noqa: E402
from seqgen.generator import _sample, log_softmax  # noqa: E402
from seqgen_drums.evaluation import fidelity  # noqa: E402
from seqgen_drums.events.encoding import DRUM_KIT_NAMES  # noqa: E402
from seqgen_drums.events.groove import STEPS_PER_BAR, hits_of_classes  # noqa: E402


def rates(values) -> str:
    return " | ".join(f"{value:.3f}" for value in values)


def keras_samples(model, tokens, primer, args):
    """Classes [outputs, num_steps] sampled from the Keras network after the prompt ``tokens``, and the
    streams (tokens, steps) they were read as."""
    import tensorflow as tf

    network = model.config.family.build(model.config)
    variables = network.variables_by_name()
    for name, value in model.weights.items():
        variables[name].assign(value)
    rng = np.random.default_rng(args.seed)
    streams = np.array([tokens + list(primer)] * args.outputs, np.int64)
    steps = np.array([[0] * len(tokens) + list(range(len(primer)))] * args.outputs, np.int64)
    for step in range(len(primer), args.num_steps):
        logits = network(tf.constant(streams), steps=tf.constant(steps)).numpy()[:, -1]
        chosen = _sample(log_softmax(logits), rng)  # the generator's own draw: one uniform number per output
        streams = np.concatenate([streams, chosen[:, None]], 1)
        steps = np.concatenate([steps, np.full((args.outputs, 1), step)], 1)
    return network, streams, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="drum_kit_control_gmd")
    parser.add_argument("--records", required=True, help="held-out drum records with controls")
    parser.add_argument("--where", default="fill=no", help="the records compared with (default: the beats)")
    parser.add_argument("--control", help="controls to generate with, e.g. fill=no (default: unset)")
    parser.add_argument("--outputs", type=int, default=100)
    parser.add_argument("--num_steps", type=int, default=128)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    model = seqgen.load(args.model)
    generator, encoding = model.generator, model.config.encoding
    controls = control_text.parse(args.control) if args.control else {}
    tokens = generator.control_tokens(controls)
    primer = encoding.events_to_classes(model.primer())
    reference = fidelity.record_tracks(args.records, control_text.parse(args.where) if args.where else None)
    found = fidelity.statistics(reference)

    network, streams, steps = keras_samples(model, tokens, primer, args)
    stepper = generator.stepper
    fed, _ = stepper.feed(streams[:, :-1], steps[0, :-1], stepper.initial_state(args.outputs))
    state, stepped = stepper.initial_state(args.outputs), []
    for index in range(streams.shape[1] - 1):
        logits, state = stepper.step(streams[:, index], int(steps[0, index]), state)
        stepped.append(logits)
    keras = network(streams[:, :-1], steps=steps[:, :-1]).numpy()
    print(
        f"Model {args.model}, controls {controls or 'unset'}; {args.outputs} tracks of {args.num_steps} steps, "
        f"seed {args.seed}, against {args.records} ({args.where or 'all'}).\n"
    )
    print(
        f"Logits on the Keras-sampled streams: largest |Keras - NumPy fed at once| "
        f"{np.abs(keras - fed).max():.1e}, |fed at once - stepped| {np.abs(fed - np.stack(stepped, 1)).max():.1e}.\n"
    )
    numpy_tracks = [
        encoding.events_to_classes(track.events)
        for track in model.generate(
            num_outputs=args.outputs, num_steps=args.num_steps, seed=args.seed, controls=controls, guidance=1.0
        )
    ]
    keras_tracks = list(streams[:, len(tokens) :])
    same = sum(np.array_equal(a, b) for a, b in zip(numpy_tracks, keras_tracks))
    print(f"{same} of {args.outputs} tracks are the same event for event.\n")
    print(
        fidelity.table(
            [
                ("the records", found, None),
                ("sampled from the Keras network", fidelity.statistics(keras_tracks), found),
                ("sampled by the NumPy stepper", fidelity.statistics(numpy_tracks), found),
            ]
        )
        + "\n"
    )

    table = hits_of_classes(np.arange(encoding.num_classes))  # [classes, 9]
    expected, actual = [], []
    for classes in reference:
        probabilities = np.exp(log_softmax(generator.logits(classes[None, :-1], [tokens] if tokens else None)[0]))
        expected.append(probabilities @ table)
        actual.append(table[classes[1:]])
    print("| teacher forcing on the records | " + " | ".join(DRUM_KIT_NAMES) + " |")
    print("|---|" + "---:|" * len(DRUM_KIT_NAMES))
    print(f"| expected under the model | {rates(np.concatenate(expected).mean(0))} |")
    print(f"| the records | {rates(np.concatenate(actual).mean(0))} |")
    first = slice(0, STEPS_PER_BAR - 1)  # the first bar's steps 2-16, each predicted from the steps before it
    print(f"| expected under the model, first bar | {rates(np.concatenate([e[first] for e in expected]).mean(0))} |")
    print(f"| the records, first bar | {rates(np.concatenate([a[first] for a in actual]).mean(0))} |\n")

    hits = table[np.array(numpy_tracks)]  # [outputs, steps, 9]
    print("| generated, bar | " + " | ".join(DRUM_KIT_NAMES) + " |")
    print("|---|" + "---:|" * len(DRUM_KIT_NAMES))
    for bar in range(args.num_steps // STEPS_PER_BAR):
        print(f"| {bar + 1} | {rates(hits[:, bar * STEPS_PER_BAR : (bar + 1) * STEPS_PER_BAR].mean((0, 1)))} |")
    first = [classes[:STEPS_PER_BAR] for classes in reference]
    print(f"| the records' first bars | {rates(np.concatenate([table[c] for c in first]).mean(0))} |")


if __name__ == "__main__":
    main()
