"""WAV rendering time, the FluidSynth program against in-process synthesis (symusic), same file, same soundfont.

Usage: python bench/render.py [--midi FILE.mid] [--runs 5]

Each way renders ``--runs`` times in this process (FluidSynth with the PATH as it is, then in-process with no
FluidSynth on the PATH) and prints the median and every run in seconds.
"""

import argparse
import os
import statistics
import tempfile
import time

from seqgen import render

FUNK = os.path.join(
    os.path.dirname(__file__),
    "..",
    "tests",
    "data",
    "groove",
    "drummer1",
    "eval_session",
    "1_funk-groove1_138_beat_4-4.mid",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--midi", default=FUNK)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    soundfont = render.find_soundfont()
    ways = [("in-process", tempfile.mkdtemp())]
    if render.find_fluidsynth():
        ways.insert(0, ("fluidsynth", os.environ["PATH"]))
    for label, path in ways:
        os.environ["PATH"] = path
        runs = []
        with tempfile.TemporaryDirectory() as scratch:
            for _ in range(args.runs):
                start = time.perf_counter()
                render.render_wav(args.midi, os.path.join(scratch, "out.wav"), soundfont)
                runs.append(time.perf_counter() - start)
        print(f"{label}: median {statistics.median(runs):.3f} s, runs {', '.join(f'{r:.3f}' for r in runs)}")


if __name__ == "__main__":
    main()
