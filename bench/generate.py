"""Generation speed: 10 outputs x 128 steps from a drum_kit 3x256 attention-32 bundle (random weights).

Measures the whole `seqgen generate` process (subprocess wall time, MIDI files written) and the
generation part alone (RNNGenerator.generate in this process, one BLAS thread like the command),
plain sampling and beam_size 4 x branch_factor 2. Usage: python bench/generate.py [--runs 7]
(OPENBLAS_NUM_THREADS=2 python bench/generate.py measures with two BLAS threads).
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

from seqgen import bundle, plugins  # noqa: E402
from seqgen.families.events_rnn.inference import random_weights  # noqa: E402
from seqgen.model import Model  # noqa: E402

BEAM = ["--beam_size", "4", "--branch_factor", "2"]


def median(times) -> str:
    return f"median {statistics.median(times):.3f} s (min {min(times):.3f}, max {max(times):.3f}, {len(times)} runs)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    seqgen = shutil.which("seqgen") or sys.exit("seqgen is not installed: pip install -e .")
    config = plugins.get_config("drum_kit")  # defaults: rnn_layer_sizes=[256,256,256], attn_length=32
    weights = random_weights(config)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "drum_kit_3x256.seqgen"
        bundle.save(path, config, weights, "random weights for benchmarking")
        generator = Model(config, weights).generator
        primer = config.tracks.parse_primer("[(36,)]")
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
                command = [seqgen, "generate", "--bundle_file", str(path), "--output_dir", f"{tmp}/out",
                           "--num_outputs", "10", "--num_steps", "128", "--seed", str(seed), *extra]
                start = time.perf_counter()
                subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
                process.append(time.perf_counter() - start)
            print(f"{name}: generating {median(generating)}")
            print(f"{name}: whole process {median(process)}")


if __name__ == "__main__":
    main()
