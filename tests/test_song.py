"""Songs, loops and variations (seqgen/song.py) on a plugin defined here, not drums: toy onset events, a small
transformer of random weights that takes a fill control and fills in the middle, and an arrangement whose
sections start with the loudest event. What is tested is the mechanism (lengths, what is kept, what is
regenerated and what it reads, markers), not how good the music is. Drums through the CLI and the API are in
plugins/drums/tests/test_drums_song.py; bad input in tests/test_bad_input.py."""

import mido
import numpy as np
import pytest

from seqgen import plugins
from seqgen.config import Config
from seqgen.controls import Control
from seqgen.errors import SeqgenError
from seqgen.form import parse_form
from seqgen.families.transformer import TransformerHParams
from seqgen.hookspecs import hookimpl
from seqgen.tracks import Arrangement
from support import SMALL_TRANSFORMER, one_blas_thread, random_model  # noqa: F401  (one_blas_thread: autouse)
from toy_plugin import MOST, TOY

BAR = 16  # the toy's 4 steps a quarter


def _busy(events, metadata):
    return float(sum(1 for event in events if event)) * BAR / max(len(events), 1)


SONGS = Config(
    id="toy_songs",
    description="Onset counts with a fill control, filling in the middle.",
    **TOY,
    model="transformer",
    hparams=TransformerHParams(controls=True, control_every_step=True, infill=True).override(SMALL_TRANSFORMER),
    controls=(
        Control("fill", "a fill", values=("no", "yes")),
        Control("busy", "onsets per bar", edges=(0, 4, 8, 16), measure=_busy, per_bar=True),
    ),
)


class SongsPlugin:
    @hookimpl
    def register_configs(self, register):
        register(SONGS)

    @hookimpl
    def song_arrangement(self, config):
        if config.id != "toy_songs":
            return None
        return Arrangement(fill={"fill": "yes"}, beat={"fill": "no"}, section_start=lambda event: MOST)


@pytest.fixture
def model(registered):
    registered(SongsPlugin(), "songs")
    return random_model(plugins.get_config("toy_songs"), seed=3)


def bars_of(events):
    return [tuple(events[k : k + BAR]) for k in range(0, len(events), BAR)]


def test_a_song_has_the_forms_bars_its_sections_and_their_first_steps(model, tmp_path):
    songs = model.song("intro:2 verse:3 chorus:2 verse:3 outro:1", num_outputs=2, seed=1, qpm=100)
    assert len(songs) == 2 and songs[0].events != songs[1].events
    for made in songs:
        assert len(made) == 11 * BAR
        assert made.sections == (
            ("intro", 0),
            ("verse", 2 * BAR),
            ("chorus", 5 * BAR),
            ("verse", 7 * BAR),
            ("outro", 10 * BAR),
        )
        assert all(made.events[first] == MOST for _, first in made.sections)  # the arrangement's section start
    again = model.song("intro:2 verse:3 chorus:2 verse:3 outro:1", num_outputs=2, seed=1, qpm=100)
    assert [s.events for s in again] == [s.events for s in songs]
    # The MIDI file: a marker naming each section at its first step, and exactly the form's length.
    songs[0].write_midi(tmp_path / "song.mid")
    midi = mido.MidiFile(tmp_path / "song.mid")
    seconds = 60 / 100 / 4
    assert midi.length == pytest.approx(11 * BAR * seconds, abs=1e-3)
    markers, tick = [], 0
    for message in midi.tracks[0]:
        tick += message.time
        if message.type == "marker":
            markers.append((message.text, round(mido.tick2second(tick, midi.ticks_per_beat, 600000) / seconds)))
    assert markers == list(songs[0].sections)


def test_repeats_reuse_their_material_and_variation_regenerates_a_share_of_bars(model):
    form = "verse:5 chorus:2 verse:5 end:1"
    for variation, changed in ((0.0, 0), (0.4, 2), (1.0, None)):
        for made in model.song(form, variation=variation, num_outputs=3, seed=2):
            first, again = bars_of(made.events[: 5 * BAR]), bars_of(made.events[7 * BAR : 12 * BAR])
            differ = sum(a != b for a, b in zip(first[1:4], again[1:4]))  # the first and last bars are seams'
            if changed is None:
                assert differ >= 2  # new: drawn anew
            else:
                assert differ == changed, variation
    # A section's own option wins over the song's variation: :repeat is exact, :new is new.
    exact = model.song("verse:5 chorus:2 verse:5:repeat", variation=1.0, seed=2)[0].events
    assert bars_of(exact[BAR : 4 * BAR]) == bars_of(exact[8 * BAR : 11 * BAR])
    new = model.song("verse:5 chorus:2 verse:5:new", seed=2)[0].events
    assert bars_of(new[BAR : 4 * BAR]) != bars_of(new[8 * BAR : 11 * BAR])


def test_each_seam_is_filled_reading_the_section_after_it(model):
    """The last bar of a section is regenerated with the next section's start after it: the same song but what
    follows gives another last bar, and nothing else of the first section changes; the next section's first
    bar is regenerated reading the bars before it."""
    quiet = model.song("a:2 b:2", controls={"b": {"busy": 1}}, num_outputs=4, seed=5)
    busy = model.song("a:2 b:2", controls={"b": {"busy": 15}}, num_outputs=4, seed=5)
    assert all(q.events[:BAR] == b.events[:BAR] for q, b in zip(quiet, busy))
    assert any(q.events[BAR : 2 * BAR] != b.events[BAR : 2 * BAR] for q, b in zip(quiet, busy))
    # b asks no per-bar number here, so its first bar is always an infill (with one, the bar as b made it is a
    # candidate too: the nearest to b's number is kept).
    calm = model.song("a:2 b:2", controls={"a": {"busy": 1}}, num_outputs=4, seed=5)
    intro = model.song("a:2 b:2", controls={"a": {"busy": 15}}, num_outputs=4, seed=5)
    assert any(c.events[2 * BAR + 1 : 3 * BAR] != i.events[2 * BAR + 1 : 3 * BAR] for c, i in zip(calm, intro))
    assert all(c.events[3 * BAR :] == i.events[3 * BAR :] for c, i in zip(calm, intro))
    # Fills are asked for through the fill control, only in those bars: --fills no changes only the fill bar.
    plain = model.song("a:2 b:2", fills=False, num_outputs=4, seed=5)
    filled = model.song("a:2 b:2", fills=True, num_outputs=4, seed=5)
    differ = {t for p, f in zip(plain, filled) for t in range(len(p)) if p.events[t] != f.events[t]}
    assert differ and differ <= set(range(BAR, 2 * BAR))


def test_one_section_is_made_anew_and_only_the_bars_around_its_seams_change(model):
    made = model.song("a:3 b:3 c:3", controls={"b": {"busy": 4}}, seed=6)[0]
    again = model.regenerate_section(made, 2, controls={"b": {"busy": 12}}, seed=7)
    assert len(again) == len(made) and again.sections == made.sections
    old, new = bars_of(made.events), bars_of(again.events)
    assert old[:2] == new[:2] and old[7:] == new[7:]  # a's and c's kept bars
    assert old[3:6] != new[3:6]  # b, made anew; a's last bar and c's first around it may change too
    assert again.events[3 * BAR] == again.events[6 * BAR] == MOST  # sections still start as the plugin says
    with pytest.raises(SeqgenError, match="the song has 3 sections; choose one from 1 to 3"):
        model.regenerate_section(made, 4)


def test_a_model_without_infilling_or_controls_is_refused_fills_and_variations(registered, toy):
    registered(SongsPlugin(), "songs")
    rnn = random_model(plugins.get_config("toy_rnn"))
    made = rnn.song("a:3 b:1 a:3", seed=1)[0]  # what it can: new sections, exact repeats, seams by rescoring
    assert len(made) == 7 * BAR and made.events[BAR : 2 * BAR] == made.events[5 * BAR : 6 * BAR]
    with pytest.raises(SeqgenError, match="--fills yes needs a model with fills"):
        rnn.song("a:1 b:1", fills=True)
    with pytest.raises(SeqgenError, match="--variation needs a model that can fill in the middle"):
        rnn.song("a:1 b:1 a:1", variation=0.5)
    no_fill = random_model(plugins.get_config("toy_songs").with_hparams("infill=false"))
    with pytest.raises(SeqgenError, match="needs a model with fill-in-the-middle"):
        no_fill.song("a:1 b:1", fills=True)


@pytest.mark.parametrize(
    "form,message",
    [
        ("", "--form is empty"),
        ("verse", "'verse' has no length"),
        ("verse:0", "at least 1"),
        ("verse:x", "whole number of bars"),
        ("verse:4:loud", "unknown option 'loud'"),
        ("verse:4:vary=2", "vary must be a number from 0 to 1"),
        ("a:1000 b:25", "1025 bars in all, more than 1024"),
        ("4:verse", "needs a name"),
    ],
)
def test_malformed_forms_are_refused_in_one_line(form, message):
    with pytest.raises(SeqgenError, match=message) as error:
        parse_form(form)
    assert len(str(error.value).splitlines()) == 1


def test_section_controls_are_checked(model):
    with pytest.raises(SeqgenError, match="names section 'bridge', which is not in the form; its sections are a, b"):
        model.song("a:1 b:1", controls={"bridge": {"busy": 3}})
    with pytest.raises(SeqgenError, match="unknown control 'loud'"):
        model.song("a:1 b:1", controls={"a": {"loud": 3}})


def test_a_loop_keeps_its_body_and_regenerates_its_end_and_repeats_exactly(model):
    plain = model.generate(num_outputs=3, num_steps=3 * BAR, primer=[1], seed=4)
    loops = model.loop(3, repeats=2, num_outputs=3, primer=[1], seed=4)
    for made, body in zip(loops, plain):
        assert len(made) == 6 * BAR and made.events[: 3 * BAR] == made.events[3 * BAR :]
        assert made.events[: 2 * BAR] == body.events[: 2 * BAR]
    assert any(made.events[2 * BAR : 3 * BAR] != body.events[2 * BAR : 3 * BAR] for made, body in zip(loops, plain))
    one = model.loop(1, num_outputs=2, primer=[2], seed=1)  # one bar: its first step stays, the rest reads it
    assert all(len(m) == BAR and m.events[0] == 2 for m in one)
    with pytest.raises(SeqgenError, match="--loop_bars 5 is past this model's limit of 4 bars"):
        model.loop(5)


def test_variations_change_a_growing_share_of_the_clip(model):
    clip = model.generate(num_steps=8 * BAR, primer=[1], seed=7)[0]
    assert [v.events for v in model.vary(clip, 0, num_outputs=2)] == [clip.events] * 2
    changed = {}
    for amount in (0.25, 0.5, 1.0):
        outputs = model.vary(clip, amount, num_outputs=4, seed=1)
        assert all(len(v) == len(clip) for v in outputs)
        changed[amount] = np.mean(
            [sum(a != b for a, b in zip(bars_of(v.events), bars_of(clip.events))) for v in outputs]
        )
    assert changed[0.25] == 2 and changed[0.5] == 4 and changed[1.0] > 6
    with pytest.raises(SeqgenError, match="--amount must be a number from 0 to 1, got 1.5"):
        model.vary(clip, 1.5)
    with pytest.raises(SeqgenError, match="the clip has no notes"):
        model.vary([0] * BAR, 0.5)
