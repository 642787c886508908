"""Sampled MIDI for fixed seeds, written before a move of code and compared after it (issue 34: behaviour
unchanged). ``python tests/golden.py`` writes ``tests/data/golden/NAME.mid`` for every case anew; the test
``tests/test_golden.py`` makes each case again and compares its notes with the file's.

Each case is one call a user makes: generation from each shipped model (the default with controls, guidance
and infilling; the events RNN; the plain transformer), a song with fills and a variation, a Magenta bundle,
humanize (both groove models) and Drumify."""

import pathlib
import sys

import seqgen

GOLDEN = pathlib.Path(__file__).parent / "data" / "golden"
MAGENTA = pathlib.Path(__file__).parent / "data" / "magenta"
SCORE = "[" + ", ".join(["(36, 42), (), (42,), (), (38, 42), (), (42,), (42,)"] * 4) + "]"


def _control():
    model = seqgen.load("drum_kit_control_gmd")
    take = model.generate(
        num_outputs=1,
        num_steps=64,
        seed=1,
        qpm=100,
        controls={"style": "funk", "fill": "no", "tempo": 100, "density": 16},
    )[0]
    return take, model


def control_generate():
    return _control()[0]


def control_infill():
    take, model = _control()
    return model.infill(take, bars="2-3", seed=2)[0]


def control_song():
    model = seqgen.load("drum_kit_control_gmd")
    return model.song(
        "intro:2 verse:2 chorus:2 verse:2", controls={"chorus": {"density": 22}}, fills=True, variation=0.5, seed=1
    )[0]


def control_vary():
    take, model = _control()
    return model.vary(take, 0.5, seed=3)[0]


def events_rnn_generate():
    return seqgen.load("drum_kit_gmd").generate(num_outputs=1, num_steps=64, seed=1, temperature=0.9)[0]


def transformer_generate():
    return seqgen.load("drum_kit_transformer_gmd").generate(num_outputs=1, num_steps=64, seed=1)[0]


def magenta_generate():
    bundle = MAGENTA / "drum_kit_gmd_64x2_attn32_300steps.mag"
    return seqgen.load(str(bundle)).generate(num_outputs=1, num_steps=48, seed=1)[0]


def humanize_sampling():
    return seqgen.load("groove_sampling_gmd").humanize(SCORE, temperature=1.0, seed=3, amount=0.8, swing=0.1)


def humanize_mean():
    return seqgen.load("groove_gmd").humanize(SCORE, temperature=0.0, seed=3)


def drumify():
    from seqgen_drums.events.rhythm import rhythm_from_times

    taps = rhythm_from_times(
        [0.0, 0.5, 0.75, 1.0, 1.5, 2.0, 2.25, 3.0, 3.5], qpm=120, velocities=[110, 80, 70, 100, 90, 110, 60, 100, 80]
    )
    return seqgen.load("drumify_gmd").drumify(taps, temperature=1.0, seed=1)


CASES = {
    case.__name__: case
    for case in (
        control_generate,
        control_infill,
        control_song,
        control_vary,
        events_rnn_generate,
        transformer_generate,
        magenta_generate,
        humanize_sampling,
        humanize_mean,
        drumify,
    )
}


def notes(midi) -> list:
    """Every note of a pretty_midi.PrettyMIDI as (pitch, velocity, start, end), rounded to a microsecond."""
    return sorted(
        (note.pitch, note.velocity, round(float(note.start), 6), round(float(note.end), 6))
        for instrument in midi.instruments
        for note in instrument.notes
    )


if __name__ == "__main__":
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for name in sys.argv[1:] or CASES:
        CASES[name]().write_midi(GOLDEN / f"{name}.mid", overwrite=True)
        print("wrote", GOLDEN / f"{name}.mid")
