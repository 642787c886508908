"""Generation speed: 10 outputs x 128 steps from bundles of random weights at the drums plugin's default
sizes: drum_kit (events RNN 3x256, attention 32) and drum_kit_transformer (4 layers, d_model 128).

Measures the whole `seqgen generate` process (subprocess wall time, MIDI files written) and the
generation part alone (Model.generate in this process, one BLAS thread like the command), plain
sampling and beam_size 4 x branch_factor 2. Usage: python bench/generate.py [--runs 7] [--configs drum_kit]
(OPENBLAS_NUM_THREADS=2 python bench/generate.py measures with two BLAS threads). ``--controls
style=funk,density=20 --controls density=20`` also times the generation part steered by each set of
controls (of a config that takes them; guidance at its default).
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from seqgen.cli import single_blas_thread

single_blas_thread()  # as `seqgen generate` does, before NumPy loads

from seqgen import bundle, controls, plugins  # noqa: E402
from seqgen.families.events_rnn import inference as events_rnn  # noqa: E402
from seqgen.families.transformer import inference as transformer  # noqa: E402
from seqgen.model import Model  # noqa: E402

RANDOM_WEIGHTS = {"events_rnn": events_rnn.random_weights, "transformer": transformer.random_weights}

BEAM = ["--beam_size", "4", "--branch_factor", "2"]


def median(times) -> str:
    return f"median {statistics.median(times):.3f} s (min {min(times):.3f}, max {max(times):.3f}, {len(times)} runs)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--configs", nargs="+", default=["drum_kit", "drum_kit_transformer"])
    parser.add_argument("--controls", action="append", default=[], help="name=value,...; may repeat")
    args = parser.parse_args()
    for config_id in args.configs:
        measure(plugins.get_config(config_id), args.runs, args.controls)


def measure(config, runs, steered=()) -> None:
    seqgen = shutil.which("seqgen") or sys.exit("seqgen is not installed: pip install -e .")
    weights = RANDOM_WEIGHTS[config.model](config)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{config.id}.seqgen"
        bundle.save(path, config, weights, "random weights for benchmarking")
        generator = Model(config, weights).generator
        primer = config.tracks.parse_primer("[(36,)]")
        if generator.controls:
            for text in steered:
                generating = []
                for seed in range(runs):
                    start = time.perf_counter()
                    generator.generate(primer, 128, num_outputs=10, seed=seed, controls=controls.parse(text))
                    generating.append(time.perf_counter() - start)
                print(f"{config.id} sampling, controls {text}: generating {median(generating)}")
        for name, extra in (("sampling", []), ("beam 4x2", BEAM)):
            kwargs = {"beam_size": 4, "branch_factor": 2} if extra else {}
            generating = []
            for seed in range(runs):
                start = time.perf_counter()
                tracks = generator.generate(primer, 128, num_outputs=10, seed=seed, **kwargs)
                generating.append(time.perf_counter() - start)
                assert len(tracks) == 10 and all(len(t) == 128 for t in tracks)
            process = []
            for seed in range(runs):
                command = [
                    seqgen,
                    "generate",
                    "--bundle_file",
                    str(path),
                    "--output_dir",
                    f"{tmp}/out",
                    "--num_outputs",
                    "10",
                    "--num_steps",
                    "128",
                    "--seed",
                    str(seed),
                    *extra,
                ]
                start = time.perf_counter()
                subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
                process.append(time.perf_counter() - start)
            print(f"{config.id} {name}: generating {median(generating)}")
            print(f"{config.id} {name}: whole process {median(process)}")


if __name__ == "__main__":
    main()
