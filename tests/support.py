"""What the core tests (tests/) and the drums plugin's tests (plugins/drums/tests) share: the paths of the data
the tests carry in tests/data (nothing outside the repository), the ``registered``, ``one_blas_thread`` and
``synthesizer`` fixtures, models of random weights (the plugin authors' kit, :mod:`seqgen.testing`), the steps
of a written MIDI file, and an environment in which a plugin module counts as installed. Both folders import it
by name (pyproject.toml puts tests/ on the path)."""

import contextlib
import os
import pathlib
import shutil

import pytest

from seqgen.testing import random_model  # noqa: F401  (the plugin authors' kit; the core tests use it too)

REPO = pathlib.Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
GROOVE = DATA / "groove"  # a slice of the Groove MIDI Dataset: see its CREDIT.md
MAGENTA = DATA / "magenta"  # Magenta's reference .mag bundles and outputs: see its README.md


#: A small transformer (``--hparams``), for models of random weights.
SMALL_TRANSFORMER = "num_layers=2,d_model=16,num_heads=2,d_ff=32,max_relative_distance=16"


@pytest.fixture(autouse=True)
def one_blas_thread():
    """One BLAS thread, as the seqgen commands use: on a busy machine a second one stalls every step (the
    shipped models' tests took 40 s instead of 1). Autouse in the modules that import it."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # not installed: BLAS's own number of threads
        yield
        return
    with threadpool_limits(1, user_api="blas"):
        yield


@pytest.fixture(params=["fluidsynth", "in-process"])
def synthesizer(request, monkeypatch, tmp_path_factory):
    """Each way seqgen renders WAVs: the FluidSynth program (skipped where it is not installed), and in-process
    from a soundfont, as on a machine without FluidSynth (a PATH without it, for this process and its children)."""
    if request.param == "fluidsynth" and shutil.which("fluidsynth") is None:
        pytest.skip("the FluidSynth program is not installed (apt-get install fluidsynth)")
    if request.param == "in-process":
        monkeypatch.setenv("PATH", str(tmp_path_factory.mktemp("no-fluidsynth")))
    return request.param


def read_steps(path, steps_per_quarter=4, qpm=120.0):
    """``({step: pitches starting there}, NoteSequence)`` of a MIDI file seqgen wrote."""
    from seqgen.noteseq import midi_io

    sequence = midi_io.midi_file_to_note_sequence(str(path))
    seconds = 60.0 / qpm / steps_per_quarter
    steps = {}
    for note in sequence.notes:
        steps.setdefault(round(note.start_time / seconds), set()).add(note.pitch)
    return steps, sequence


@pytest.fixture
def registered():
    """Register extra plugins in-process (``registered(plugin, name)``) and unregister them afterwards (the kit's
    :func:`seqgen.testing.registered`, for the rest of the test)."""
    from seqgen import testing

    with contextlib.ExitStack() as stack:
        yield lambda plugin, name: stack.enter_context(testing.registered(plugin, name))


def installed_plugin(folder, name: str, source: str = None) -> dict:
    """The environment of a ``python -m seqgen`` process in which an installed distribution registers module
    ``{name}_plugin`` as plugin ``name``: the module written from ``source`` into ``folder``, or without a
    source the one in tests/ (``installed_plugin(tmp_path, "toy")`` installs toy_plugin.py)."""
    module = f"{name}_plugin"
    if source is not None:
        (folder / f"{module}.py").write_text(source)
    info = folder / f"{module}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[seqgen]\n{name} = {module}\n")
    path = [str(folder), str(REPO / "tests"), os.environ.get("PYTHONPATH", "")]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
