"""The example plugin in examples/seqgen-bass, installed as a user would, through seqgen's shared commands.

The plugin is pip-installed into a private folder (``pip install --target``) put on PYTHONPATH of the
seqgen processes, so the shared environment, and the other tests running beside these, never see it.
Its data are bass lines that follow the kick drum of real Groove performances.
"""

import json
import math
import os
import shutil
import subprocess
import sys
import zipfile

import pretty_midi
import pytest

from support import GROOVE, REPO
from groove_slice import bass_song_rows

pytestmark = pytest.mark.slow  # the fast lane, `pytest -m "not slow"`, leaves this module out

EXAMPLE = REPO / "examples" / "seqgen-bass"
ROOTS = (40, 45, 43, 38)  # E, A, G, D: one bar each


def write_bass_songs(folder, count=12):
    """Groove training performances with a bass line added: a note on every kick, root or fifth of the bar."""
    folder.mkdir()
    for row in bass_song_rows(count=count):
        song = pretty_midi.PrettyMIDI(str(GROOVE / row["midi_filename"]))
        beat = 60.0 / float(row["bpm"])
        kicks = sorted(n.start for n in song.instruments[0].notes if n.pitch in (35, 36))
        bass = pretty_midi.Instrument(program=33, name="bass")
        for i, start in enumerate(kicks):
            if i and start - kicks[i - 1] < beat / 8:
                continue  # a flam, not a new note
            root = ROOTS[int(start / (4 * beat)) % len(ROOTS)]
            on_beat = abs(start / beat - round(start / beat)) < 0.2
            end = min(start + beat, kicks[i + 1] if i + 1 < len(kicks) else start + beat)
            bass.notes.append(pretty_midi.Note(velocity=100, pitch=root if on_beat else root + 7, start=start, end=end))
        song.instruments.append(bass)
        song.write(str(folder / os.path.basename(row["midi_filename"])))
    return folder


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """Environment variables under which seqgen sees the installed example plugin."""
    root = tmp_path_factory.mktemp("bass_plugin")
    shutil.copytree(EXAMPLE, root / "source")  # building writes into the source tree; keep the repo clean
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(root / "site"),
            str(root / "source"),
        ],
        check=True,
        capture_output=True,
    )
    return dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(root / "site"), os.environ.get("PYTHONPATH")]))
    )


def seqgen(env, *args, ok=True):
    result = subprocess.run(
        [sys.executable, "-m", "seqgen", *map(str, args)], env=env, capture_output=True, text=True, timeout=300
    )
    if ok:
        assert result.returncode == 0, f"seqgen {args[0]} failed:\n{result.stdout}\n{result.stderr}"
    return result


def bass_notes(midi_path):
    song = pretty_midi.PrettyMIDI(str(midi_path))
    assert [(i.program, i.is_drum) for i in song.instruments] == [(33, False)]
    return [(round(n.start, 4), round(n.end, 4), n.pitch) for n in song.instruments[0].notes]


def test_the_example_plugin_goes_from_midi_files_to_generated_bass_lines(tmp_path, installed):
    listed = seqgen(installed, "plugins").stdout
    assert "bass 0.1.0: models bass_gru; configs bass_line" in listed and "drums" in listed

    songs = write_bass_songs(tmp_path / "songs")
    seqgen(installed, "convert", "--input_dir", songs, "--output_file", tmp_path / "songs.tfrecord")
    made = seqgen(
        installed,
        "create_dataset",
        "--config",
        "bass_line",
        "--input",
        tmp_path / "songs.tfrecord",
        "--output_dir",
        tmp_path / "dataset",
        "--eval_ratio",
        "0.25",
    ).stdout
    training = tmp_path / "dataset" / "training_bass_lines.tfrecord"
    assert training.stat().st_size > 0 and (tmp_path / "dataset" / "eval_bass_lines.tfrecord").exists(), made

    run_dir = tmp_path / "run"
    seqgen(
        installed,
        "train",
        "--config",
        "bass_line",
        "--run_dir",
        run_dir,
        "--sequence_example_file",
        training,
        "--num_training_steps",
        "20",
        "--seed",
        "1",
        "--save_checkpoint_secs",
        "0",
        "--save_checkpoint_steps",
        "10",
    )

    generate = ["--num_outputs", "3", "--num_steps", "48", "--seed", "7", "--primer", "[40, -2, -2, -1]"]
    seqgen(installed, "generate", "--run_dir", run_dir, "--output_dir", tmp_path / "from_run", *generate)
    from_run = sorted((tmp_path / "from_run").glob("*.mid"))
    assert len(from_run) == 3
    for midi in from_run:
        notes = bass_notes(midi)
        assert notes[0] == (0.0, 0.375, 40)  # the primer: E held three 16ths at 120 qpm
        assert all(a[1] <= b[0] for a, b in zip(notes, notes[1:]))  # monophonic
        assert all(28 <= pitch <= 59 for _, _, pitch in notes)

    bundle = tmp_path / "bass.seqgen"
    seqgen(installed, "generate", "--run_dir", run_dir, "--save_generator_bundle", "--bundle_file", bundle)
    seqgen(installed, "generate", "--bundle_file", bundle, "--output_dir", tmp_path / "from_bundle", *generate)
    from_bundle = sorted((tmp_path / "from_bundle").glob("*.mid"))
    assert [bass_notes(m) for m in from_bundle] == [bass_notes(m) for m in from_run]
    with zipfile.ZipFile(bundle) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert (manifest["model"], manifest["model_plugin"], manifest["model_plugin_version"]) == (
        "bass_gru",
        "bass",
        "0.1.0",
    )

    # The family has no stepper of its own: scoring runs its Keras network once over the line, generation
    # the same network over each prefix, and both agree.
    scored = json.loads(
        seqgen(installed, "score", "--bundle_file", bundle, "--events", "[40, -2, 43, -1, 45]", "--json").stdout
    )
    assert len(scored["probabilities"]) == 4 and all(0 < p < 1 for p in scored["probabilities"])
    assert scored["log_likelihood"] == pytest.approx(sum(math.log(p) for p in scored["probabilities"]), rel=1e-5)
    evaluated = json.loads(
        seqgen(
            installed,
            "evaluate",
            "--bundle_file",
            bundle,
            "--sequence_example_file",
            tmp_path / "dataset" / "eval_bass_lines.tfrecord",
            "--json",
        ).stdout
    )
    assert evaluated["model"] == "bass_line model" and evaluated["perplexity"] < 40  # 34 classes: uniform is 34

    # Mixed precision reaches the plugin's own Keras layers through the shared loop; its checkpoint generates.
    mixed = tmp_path / "mixed"
    trained = seqgen(
        installed,
        "train",
        "--config",
        "bass_line",
        "--run_dir",
        mixed,
        "--sequence_example_file",
        training,
        "--num_training_steps",
        "10",
        "--summary_frequency",
        "5",
        "--seed",
        "1",
        "--hparams",
        "precision=mixed_bfloat16",
    ).stdout
    assert "mixed_bfloat16 precision" in trained and "Step 10: loss = " in trained
    assert "nan" not in trained
    seqgen(installed, "generate", "--run_dir", mixed, "--output_dir", tmp_path / "from_mixed", *generate)
    assert len(list((tmp_path / "from_mixed").glob("*.mid"))) == 3

    # Without the plugin installed, the bundle says which plugin it needs.
    plain = dict(os.environ)
    plain.pop("PYTHONPATH", None)
    missing = seqgen(plain, "generate", "--bundle_file", bundle, "--output_dir", tmp_path / "x", ok=False)
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert "needs the seqgen plugin 'bass' (version 0.1.0), which is not installed" in missing.stderr

    if shutil.which("fluidsynth"):  # no drum grid for bass lines: a WAV alone
        rendered = seqgen(
            installed, "render", from_run[0], "--config", "bass_line", "--output_dir", tmp_path / "audio"
        ).stdout.split()
        assert rendered == [str(tmp_path / "audio" / (from_run[0].stem + ".wav"))]


def test_bass_lines_are_cut_monophonic_and_in_range(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLE))
    from seqgen.config import Extraction
    from seqgen.noteseq import music_pb2, sequences_lib
    from seqgen_bass import BASS_LINE
    from seqgen_bass.encoding import NO_EVENT as N, NOTE_OFF as X

    sequence = music_pb2.NoteSequence()
    sequence.tempos.add(qpm=120)
    for pitch, start, end, program in [
        (28, 0, 2, 33),
        (45, 0, 1, 33),  # two at once: the lowest wins
        (76, 1, 3, 33),  # too high: an octave at a time down to 52
        (40, 3, 4, 0),  # a piano note: not bass
        (43, 6, 7, 34),
    ]:
        sequence.notes.add(pitch=pitch, start_time=start * 0.125, end_time=end * 0.125, velocity=90, program=program)
    quantized = sequences_lib.quantize_note_sequence(sequence, 4)

    lines, _ = BASS_LINE.tracks.extract(quantized, Extraction(min_bars=0))
    assert lines == [[28, 52, N, X, N, N, 43]]
    assert BASS_LINE.encoding.events_to_classes(lines[0]).tolist() == [2, 26, 0, 1, 0, 0, 17]
    # Played back, the events come out as the same notes.
    played = BASS_LINE.tracks.to_note_sequence(lines[0], 4, 120)
    assert [(n.pitch, n.start_time, n.end_time) for n in played.notes] == [
        (28, 0.0, 0.125),
        (52, 0.125, 0.375),
        (43, 0.75, 0.875),
    ]

    _, counts = BASS_LINE.tracks.extract(quantized, Extraction(min_bars=1))
    assert counts["bass_lines_discarded_too_short"] == 1
