"""The fresh-clone guarantee: the tests carry their own data (tests/data) and need nothing beside the repository.

A clone of the committed HEAD, made in a temporary folder with nothing beside it, collects every test module
(several once read data outside the repository when imported) and passes a few fast modules that read the
carried data, with PYTHONPATH pointing at the clone's code.
"""

import os
import shutil
import subprocess
import sys

import pytest

from support import REPO

pytestmark = [pytest.mark.clean_clone, pytest.mark.slow]

FAST_MODULES = ["plugins/drums/tests/test_encodings.py", "tests/test_hparams.py", "tests/test_magenta_bundle.py"]


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs git and a git checkout of seqgen")
    root = tmp_path_factory.mktemp("fresh")
    clone = root / "seqgen"
    subprocess.run(
        ["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(clone)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert sorted(p.name for p in root.iterdir()) == ["seqgen"]  # nothing beside the clone
    return clone


def clone_env(clone):
    return dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([str(clone), str(clone / "plugins" / "drums")]),
        PYTHONDONTWRITEBYTECODE="1",
    )


def run_pytest(clone, *args):
    env = clone_env(clone)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *args],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


def test_a_fresh_clone_carries_the_test_data(clone):
    data = clone / "tests" / "data"
    for name in [
        "groove/info.csv",
        "groove/LICENSE",
        "groove/README",
        "groove/CREDIT.md",
        "magenta/drum_kit_gmd_64x2_attn32_300steps.mag",
        "magenta/one_drum_gmd_128x2_300steps.mag",
        "magenta/reference_logits.json",
        "magenta/reference_softmax_full.json",
        "magenta/README.md",
    ]:
        assert (data / name).is_file(), f"{name} is not committed under tests/data"
    size = sum(p.stat().st_size for p in data.rglob("*") if p.is_file())
    assert size < 8 * 2**20


def test_a_fresh_clone_collects_every_test_module_and_passes_fast_ones(clone):
    collected = run_pytest(clone, "--collect-only")  # the testpaths: tests and plugins/drums/tests
    assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-3000:]
    result = run_pytest(clone, *FAST_MODULES)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " passed" in result.stdout and "failed" not in result.stdout


def test_the_clone_runs_its_own_code(clone):
    """PYTHONPATH puts the clone's seqgen and drums plugin before this checkout's (editable) install."""
    env = clone_env(clone)
    found = subprocess.run(
        [sys.executable, "-c", "import seqgen, seqgen_drums; print(seqgen.__file__); print(seqgen_drums.__file__)"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    assert all(path.startswith(str(clone) + os.sep) for path in found), found
