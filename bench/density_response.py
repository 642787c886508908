"""How closely a model's outputs follow a requested number control (by default the drums' density): for
each seed, ``--per_request`` tracks per request; the mean measured value's offset from each request, how
many requests are met within 15%, and the rank correlation of request and measured over all outputs.

Several seeds, because 20 tracks per request spread widely (a request of 20 hits per bar gives 15 to 30).
Usage: python bench/density_response.py [--model drum_kit_control_gmd] [--seeds 1 100 200 300] [--candidates 1]
Old and new code side by side: bash bench/side_by_side.sh OLD_REV 1 "$PWD/bench/density_response.py"
"""

import argparse
import statistics

from seqgen.cli import single_blas_thread

single_blas_thread()  # as `seqgen generate` does, before NumPy loads

import numpy as np  # noqa: E402
from scipy.stats import spearmanr  # noqa: E402

import seqgen  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="drum_kit_control_gmd", help="a shipped model's name or a bundle")
    parser.add_argument("--control", default="density")
    parser.add_argument("--requests", type=float, nargs="+", default=[8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 100, 200, 300])
    parser.add_argument("--per_request", type=int, default=20)
    parser.add_argument("--num_steps", type=int, default=128)
    parser.add_argument("--guidance", type=float, help="classifier-free guidance (default: seqgen's)")
    parser.add_argument(
        "--candidates",
        type=int,
        help="first bars drawn per output (seqgen.generator.BAR_CANDIDATES; 1: the model alone)",
    )
    args = parser.parse_args()
    if args.candidates:
        from seqgen import generator

        generator.BAR_CANDIDATES = args.candidates
    model = seqgen.load(args.model)
    control = {c.name: c for c in model.controls}[args.control]
    met, errors, correlations = [], [], []
    for seed in args.seeds:
        asked, measured, offsets = [], [], []
        for index, request in enumerate(args.requests):
            tracks = model.generate(
                num_outputs=args.per_request,
                num_steps=args.num_steps,
                seed=seed + index,
                controls={args.control: request},
                guidance=args.guidance,
            )
            values = [control.measure(track.events, {}) for track in tracks]
            asked += [request] * len(values)
            measured += values
            offsets.append(np.mean(values) / request - 1)
        offsets = np.array(offsets)
        met.append(int((abs(offsets) <= 0.15).sum()))
        errors.append(float(abs(offsets).mean()))
        correlations.append(float(spearmanr(asked, measured).statistic))
        print(
            f"seed {seed}: Spearman {correlations[-1]:.3f}; mean off by (%) "
            + " ".join(f"{request:g}:{offset * 100:+.0f}" for request, offset in zip(args.requests, offsets))
            + f"; met within 15%: {met[-1]}/{len(args.requests)}; mean |off| {errors[-1] * 100:.1f}%",
            flush=True,
        )
    print(
        f"medians over {len(args.seeds)} seeds: Spearman {statistics.median(correlations):.3f}, met within 15% "
        f"{statistics.median(met):g}/{len(args.requests)}, mean |off| {statistics.median(errors) * 100:.1f}%"
    )


if __name__ == "__main__":
    main()
