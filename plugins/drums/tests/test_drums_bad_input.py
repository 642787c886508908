"""Bad input to the drums' own readers (MIDI primers) and to infilling drums: one line on stderr, a non-zero exit
code, and nothing the user had is changed (as tests/test_bad_input.py checks every command on the toy plugin;
tests/bad_input_checks.py says what the placeholders stand for). The model is the shipped drum_kit events RNN."""

import pytest

from bad_input_checks import run_in_process, write_inputs
from seqgen import plugins

MODEL = "--bundle_file {bundle}"
GEN = f"generate {MODEL} --output_dir {{out}} --num_outputs 2 --num_steps 16"
SCORE = f"score {MODEL}"

CASES = [
    ("generate-primer-midi-is-text", f"{GEN} --primer_midi {{text}}", r"notes.txt: not a valid MIDI file"),
    ("generate-primer-midi-empty", f"{GEN} --primer_midi {{empty}}", r"empty: not a valid MIDI file"),
    (
        "generate-primer-midi-truncated",
        f"{GEN} --primer_midi {{truncated_mid}}",
        r"truncated.mid: not a valid MIDI file",
    ),
    ("generate-primer-midi-is-bundle", f"{GEN} --primer_midi {{bundle}}", r"model.seqgen: not a valid MIDI file"),
    ("generate-primer-midi-is-records", f"{GEN} --primer_midi {{records}}", r"train.tfrecord: not a valid MIDI"),
    ("generate-primer-midi-too-long", f"{GEN} --primer_midi {{song}}", r"longer than --num_steps 16.*--primer_bars 1"),
    ("score-midi-is-text", f"{SCORE} --midi {{text}}", r"notes.txt: not a valid MIDI file"),
    ("score-midi-truncated", f"{SCORE} --midi {{truncated_mid}}", r"truncated.mid: not a valid MIDI file"),
    # infill (the bundle is the shipped drum_kit events RNN: it infills by rescoring)
    (
        "infill-bars-outside",
        f"infill {{song}} {MODEL} --output_dir {{out}} --bars 99",
        r"--bars 99 is outside the track",
    ),
    (
        "infill-bars-malformed",
        f"infill {{song}} {MODEL} --output_dir {{out}} --bars x-y",
        r"--bars 'x-y' is not a range",
    ),
    (
        "infill-instrument-unknown",
        f"infill {{song}} {MODEL} --output_dir {{out}} --instruments cowbell",
        r"unknown instrument 'cowbell'; valid: kick, snare",
    ),
    ("infill-everything", f"infill {{song}} {MODEL} --output_dir {{out}}", r"that selects the whole track"),
    (
        "infill-middle-cannot",
        f"infill {{song}} {MODEL} --output_dir {{out}} --bars 2 --method middle",
        r"cannot fill in the middle; use method rescore or left",
    ),
    ("infill-midi-is-text", f"infill {{text}} {MODEL} --output_dir {{out}} --bars 2", r"notes.txt"),
    # songs and loops: the bundle is the events RNN (no controls, no filling in the middle), or the default model
    (
        "song-fills-without-controls",
        f"song {MODEL} --output_dir {{out}} --form 'verse:2 chorus:2' --fills yes",
        r"--fills yes needs a model with the control fill \(this model has no controls\)",
    ),
    (
        "song-variation-without-infill",
        f"song {MODEL} --output_dir {{out}} --form 'a:2 b:2 a:2' --variation 0.3",
        r"--variation needs a model that can fill in the middle; this events_rnn model cannot",
    ),
    (
        "song-unknown-control",
        "song --output_dir {out} --form 'verse:2' --control verse:loud=3",
        r"unknown control 'loud'; this model's controls are: style, fill, tempo, density",
    ),
    (
        "song-control-bad-value",
        "song --output_dir {out} --form 'verse:2' --control verse:style=polka",
        r"control style has no value 'polka'",
    ),
    ("generate-loop-past-limit", f"{GEN} --loop_bars 33", r"--loop_bars 33 is past this model's limit of 32 bars"),
    (
        "infill-control-without",
        f"infill {{song}} {MODEL} --output_dir {{out}} --bars 2 --control style=funk",
        r"this model takes no controls",
    ),
]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    with open(plugins.get_config("drum_kit").default_bundle, "rb") as stream:
        return write_inputs(tmp_path_factory.mktemp("inputs"), stream.read(), [0, 1, 2, 5, 9, 17, 0, 1])


@pytest.mark.parametrize("command,expected", [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_bad_input_is_one_line_and_changes_nothing(command, expected, inputs, tmp_path, capsys, monkeypatch):
    run_in_process(command, expected, inputs, tmp_path, capsys, monkeypatch)
