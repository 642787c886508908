"""Infilling speed: regenerating 2 bars (32 steps) of a 16-bar track, 4 outputs, against generating 32 steps,
4 outputs, with the same model in the same process (docs/benchmarks.md, "Infilling").

The track is the Groove test split's 16-bar funk beat in tests/data; bars 8-9 are regenerated. Each model
is timed generating 32 steps from a one-step primer, continuing the track's first 14 bars by 32 steps (it
reads as much context as infilling does), and infilling by each of its methods (middle: fill-in-the-middle,
for a model that learned it; left; rescore: 8 candidates per output). "one by one" is the same infilling
with the context fed to the stepper one token at a time, as before ``Stepper.feed`` read it in one pass.
One BLAS thread, as the commands. Usage:
    python bench/infill_speed.py [--models drum_kit_control_gmd drum_kit_transformer_gmd drum_kit_gmd] [--runs 7]
"""

from seqgen.cli import single_blas_thread

single_blas_thread()  # as the seqgen commands do, before NumPy loads

import argparse  # noqa: E402
import pathlib  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import seqgen  # noqa: E402
from seqgen.family import Stepper  # noqa: E402
from seqgen.generator import Generator  # noqa: E402

SONG = (
    pathlib.Path(__file__).resolve().parents[1]
    / "tests/data/groove/drummer1/eval_session/1_funk-groove1_138_beat_4-4.mid"
)
OUTPUTS, GAP = 4, (112, 144)  # bars 8-9 of 16


class OneByOne:
    """A stepper whose ``feed`` is T calls of ``step`` (the base class's), whatever the family's is."""

    def __init__(self, stepper):
        self.stepper = stepper

    def __getattr__(self, name):
        return getattr(self.stepper, name)

    def feed(self, classes, positions, state):
        return Stepper.feed(self, classes, positions, state)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--models", nargs="+", default=["drum_kit_control_gmd", "drum_kit_transformer_gmd", "drum_kit_gmd"]
    )
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print("| model | what (4 outputs) | median s (min, max) | / generating 32 steps |")
    print("|---|---|---|---|")
    for source in args.models:
        measure(source, args.runs)


def measure(source, runs) -> None:
    model = seqgen.load(source)
    config = model.config
    events = config.tracks.primer_from_midi(str(SONG), config).events
    assert len(events) == 256, "the funk beat has 16 bars of 16 steps"
    generator, one_by_one = model.generator, Generator(config, OneByOne(model.generator.stepper))
    methods = (["middle"] if generator.prompt.infill else []) + ["left", "rescore"]
    tasks = [
        ("generate 32 steps", lambda seed: generator.generate(events[:1], 33, OUTPUTS, seed=seed)),
        ("continue 14 bars by 32 steps", lambda seed: generator.generate(events[:224], 256, OUTPUTS, seed=seed)),
    ]
    for method in methods:
        tasks.append(
            (
                f"infill bars 8-9, {method}",
                lambda seed, m=method: generator.infill(events, *GAP, num_outputs=OUTPUTS, seed=seed, method=m),
            )
        )
    tasks.append(
        (
            f"infill bars 8-9, {methods[0]}, one by one",
            lambda seed: one_by_one.infill(events, *GAP, num_outputs=OUTPUTS, seed=seed, method=methods[0]),
        )
    )
    times = {name: [] for name, _ in tasks}
    for seed in range(runs + 1):  # interleaved, so that a busy moment of the machine hits every task alike
        for name, task in tasks:
            began = time.perf_counter()
            task(seed)
            if seed:  # the first round warms caches up
                times[name].append(time.perf_counter() - began)
    base = statistics.median(times["generate 32 steps"])
    for name, measured in times.items():
        middle = statistics.median(measured)
        print(f"| {source} | {name} | {middle:.3f} ({min(measured):.3f}, {max(measured):.3f}) | {middle / base:.1f}x |")


if __name__ == "__main__":
    main()
