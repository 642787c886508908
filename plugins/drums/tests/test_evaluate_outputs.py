"""`seqgen evaluate_outputs`: per-class hit rates, their L1 distance, empty steps and groove consistency of
folders of drum MIDI files, against a folder or a record file (with --where on its controls)."""

import re

import numpy as np
import pytest

from seqgen import plugins, records
from seqgen.cli import main
from seqgen_drums.evaluation import fidelity

CONFIG = plugins.get_config("drum_kit_transformer")
KICK, SNARE, CLOSED, RIDE = 36, 38, 42, 51


def _write(folder, name, events):
    folder.mkdir(parents=True, exist_ok=True)
    CONFIG.tracks.to_midi(events, 4, 120.0).write(str(folder / name))


def _bar(kicks=(0, 8), snares=(4, 12), hats=range(0, 16, 2), rides=()):
    return [
        frozenset(
            {pitch for pitch, steps in ((KICK, kicks), (SNARE, snares), (CLOSED, hats), (RIDE, rides)) if step in steps}
        )
        for step in range(16)
    ]


@pytest.fixture
def folders(tmp_path):
    """outputs: two bars of 8th-note hi-hats, the second without the snare on step 12 (1 cell of 144 differs),
    and a bar of ride alone; reference: one bar of kicks on the beats."""
    _write(tmp_path / "outputs", "groove.mid", _bar() + _bar(snares=(4,)))
    _write(tmp_path / "outputs" / "more", "ride.mid", _bar(kicks=(), snares=(), hats=(), rides=(0, 4, 8, 12)))
    _write(tmp_path / "reference", "kicks.mid", _bar(kicks=(0, 4, 8, 12), snares=(), hats=()))
    return tmp_path


def test_known_rates_distance_empty_steps_and_groove_consistency(folders, capsys):
    outputs = fidelity.statistics(fidelity.midi_folder_tracks(folders / "outputs"))
    # 48 steps: kicks 4, snares 3, closed hi-hats 16, rides 4; 16 + 12 = 28 empty (the ride bar has 12).
    expected = np.zeros(9)
    expected[[0, 1, 2, 8]] = [4 / 48, 3 / 48, 16 / 48, 4 / 48]
    np.testing.assert_allclose(outputs.hit_rates, expected)
    assert (outputs.tracks, outputs.steps, outputs.bar_pairs) == (2, 48, 1)
    assert outputs.empty_rate == pytest.approx(28 / 48)
    assert outputs.groove_consistency == pytest.approx(1 - 1 / 144)
    reference = fidelity.statistics(fidelity.midi_folder_tracks(folders / "reference"))
    assert reference.hit_rates[0] == 0.25 and reference.empty_rate == 0.75
    assert np.isnan(reference.groove_consistency)  # one bar: no pair
    l1 = abs(4 / 48 - 0.25) + 3 / 48 + 16 / 48 + 4 / 48
    assert outputs.l1(reference) == pytest.approx(l1)

    assert main(["evaluate_outputs", str(folders / "outputs"), "--reference", str(folders / "reference")]) == 0
    rows = capsys.readouterr().out.strip().splitlines()
    assert len(rows) == 4 and rows[0].startswith("| tracks | count | steps | kick | snare | closed hi-hat")
    assert rows[3].startswith(f"| {folders / 'outputs'} | 2 | 48 | 0.083 | 0.062 | 0.333 | 0.000 |")
    assert f"| {l1:.3f} | 0.583 (-0.167) | 0.993 (-) |" in rows[3]


def test_a_record_reference_is_chosen_by_its_controls(folders, tmp_path, capsys):
    """Records as create_dataset writes them: a beat (fill 0 = no) and a fill (1 = yes), classes as bits."""
    beat = CONFIG.encoding.events_to_classes(_bar() * 2)
    fill = CONFIG.encoding.events_to_classes(_bar(kicks=(), hats=(), snares=range(16)))
    path = tmp_path / "records.tfrecord"
    records.write_examples(
        path,
        [
            records.encode_example(beat, context={"control/fill": 0.0}),
            records.encode_example(fill, context={"control/fill": 1.0}),
        ],
    )
    beats = fidelity.record_tracks(str(path), {"fill": "no"})
    assert len(beats) == 1 and list(beats[0]) == list(beat)
    assert len(fidelity.record_tracks(str(path))) == 2

    assert main(["evaluate_outputs", str(folders / "outputs"), "--reference", str(path), "--where", "fill=yes"]) == 0
    reference_row = capsys.readouterr().out.strip().splitlines()[2]
    assert reference_row.startswith(f"| reference: {path} (fill=yes) | 1 | 16 | 0.000 | 1.000 | 0.000 |")


def test_a_number_keeps_the_records_within_half_its_bins_width_of_it(tmp_path):
    """tempo=120 lies on the edge of the bins [110, 120) and [120, 130), so generation reads it as both: the
    reference is the tempos a half bin (5 bpm) either side of it, not the bin above the edge."""
    path = tmp_path / "records.tfrecord"
    tempos = [112.0, 115.0, 118.0, 124.0, 125.0, 128.0]
    tracks = [CONFIG.encoding.events_to_classes(_bar(kicks=range(index + 1))) for index in range(len(tempos))]
    records.write_examples(
        path, [records.encode_example(t, context={"control/tempo": tempo}) for t, tempo in zip(tracks, tempos)]
    )
    kept = fidelity.record_tracks(str(path), {"tempo": 120.0})
    assert [list(track) for track in kept] == [list(tracks[index]) for index in (1, 2, 3)]  # 115, 118 and 124


@pytest.mark.parametrize(
    "argv,expected",
    [
        (["{outputs}", "--reference", "{missing}"], r"missing does not exist; give a record file or a folder of MIDI"),
        (["{empty}", "--reference", "{reference}"], r"empty holds no MIDI files \(\.mid, \.midi\)$"),
        (
            ["{outputs}", "--reference", "{reference}", "--where", "fill=no"],
            r"--where selects records by their controls",
        ),
        (["{outputs}", "--reference", "{records}", "--where", "fill=maybe"], r"control fill has no value 'maybe'"),
        (["{outputs}", "--reference", "{records}", "--where", "fill=yes"], r"holds no drum tracks with fill=yes$"),
    ],
)
def test_bad_input_gets_one_line(folders, argv, expected, capsys):
    (folders / "empty").mkdir()
    path = folders / "records.tfrecord"
    records.write_examples(path, [records.encode_example([1, 0, 2, 0], context={"control/fill": 0.0})])
    places = {name: folders / name for name in ("outputs", "reference", "missing", "empty")}
    code = main(["evaluate_outputs"] + [arg.format(records=path, **places) for arg in argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert code not in (0, None) and len(err) == 1, err
    assert re.search(expected, err[0]), err[0]
