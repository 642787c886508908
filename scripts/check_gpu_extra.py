"""Check that the ``gpu`` extra resolves with pip's resolver, without installing it (a CI step of scripts/test.sh).

Runs ``pip install --dry-run --ignore-installed --report`` on ``.[gpu]`` and checks the resolution: TensorFlow
itself (not tensorflow-cpu, which installs the same module) with the CUDA libraries of its ``and-cuda`` extra,
and note-seq. Prints one line with what it found; exits non-zero with the reason otherwise.
"""

import json
import pathlib
import subprocess
import sys
import tempfile

REPO = pathlib.Path(__file__).resolve().parents[1]


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        report = pathlib.Path(folder) / "report.json"
        command = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--report",
            str(report),
            f"{REPO}[gpu]",
        ]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            print(f"check_gpu_extra: pip could not resolve .[gpu]:\n{done.stderr.strip()}", file=sys.stderr)
            return 1
        versions = {
            item["metadata"]["name"].lower(): item["metadata"]["version"]
            for item in json.loads(report.read_text())["install"]
        }
    cuda = sorted(name for name in versions if name.startswith("nvidia-") and name.endswith("-cu12"))
    problems = []
    if "tensorflow" not in versions:
        problems.append("no tensorflow in the resolution")
    if "tensorflow-cpu" in versions:
        problems.append("tensorflow-cpu in the resolution (it would shadow the GPU build)")
    if not any(name.startswith("nvidia-cudnn") for name in cuda):
        problems.append("no CUDA libraries (nvidia-*-cu12) in the resolution")
    if "note-seq" not in versions:
        problems.append("no note-seq in the resolution")
    if problems:
        print(f"check_gpu_extra: {'; '.join(problems)}", file=sys.stderr)
        return 1
    print(
        f"gpu extra resolves: tensorflow {versions['tensorflow']} with {len(cuda)} CUDA packages "
        f"({', '.join(cuda[:3])}, ...), {len(versions)} packages in all"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
