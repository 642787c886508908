"""The drum configs' controls: style, fill, tempo (from the Groove MIDI Dataset's labels, through
``seqgen convert --metadata_csv info.csv``) and density (measured on the track itself, so any MIDI
collection has it)."""

from seqgen.controls import Control

from seqgen_drums.events.encoding import DRUM_KIT_PITCHES, DrumEncoding

#: The Groove MIDI Dataset's 18 top-level styles (info.csv's ``style`` before the '/').
STYLES = (
    "afrobeat",
    "afrocuban",
    "blues",
    "country",
    "dance",
    "funk",
    "gospel",
    "highlife",
    "hiphop",
    "jazz",
    "latin",
    "middleeastern",
    "neworleans",
    "pop",
    "punk",
    "reggae",
    "rock",
    "soul",
)
STEPS_PER_BAR = 16  # 4/4 at 4 steps per quarter, as every drum config
_KIT = DrumEncoding(DRUM_KIT_PITCHES)


def _style(events, metadata):
    label = metadata.get("style") or metadata.get("genre")
    return label.split("/")[0].strip().lower() if label else None


def _fill(events, metadata):
    kind = (metadata.get("beat_type") or "").strip().lower()
    return {"fill": "yes", "beat": "no"}.get(kind)


def _tempo(events, metadata):
    for key in ("bpm", "qpm"):
        try:
            return float(metadata[key])
        except (KeyError, TypeError, ValueError):
            continue
    return None


def density(events) -> float:
    """Hits per bar: drums of the kit struck per step, summed, over the track's bars (16 steps)."""
    hits = sum(bin(_KIT.event_to_class(event)).count("1") for event in events)
    return hits * STEPS_PER_BAR / max(len(events), 1)


def _density(events, metadata):
    return min(density(events), 64.0)


DRUM_CONTROLS = (
    Control("style", "the Groove MIDI Dataset's style of playing", values=STYLES, measure=_style),
    # Fill's and tempo's guidance is the one whose outputs come nearest the Groove validation split's tracks of
    # that value (anchored on the plain model, 3 seeds; docs/models.md, "Each control's own guidance"); style
    # keeps 3, below which the style asked for is heard less. Fill at 1.5: at 3, fill=no nearly triples the
    # ride and fill=yes plays more toms than the drummers' fills. Tempo at 1: the output plays at the tempo
    # anyway; guided harder, it pulls every class away from the drummers'. Density at 4, its bins calibrated at
    # 4: requests met within 15% on 11 of 12 seeds (6 of 12 at 3), as near the drummers of each density
    # (docs/models.md, "Density at guidance 4"). A fill is never unlabelled in training: with fills dropped
    # to unset, an unset track began as a fill a quarter of the time (docs/models.md, "What the drum models
    # play").
    Control("fill", "a fill (yes) or a beat (no)", values=("no", "yes"), measure=_fill, guidance=1.5, kept=("yes",)),
    Control(
        "tempo",
        "the tempo in beats per minute the drummer played at (the output plays at it)",
        edges=(40, 70, 80, 90, 100, 110, 120, 130, 140, 160, 300),
        measure=_tempo,
        guidance=1.0,
    ),
    Control(
        "density",
        "drum hits per bar (4/4)",
        edges=(0, 4, 6, 8, 10, 12, 14, 16, 18, 20, 23, 26, 30, 35, 42, 64),
        measure=_density,
        per_bar=True,
        guidance=4.0,
    ),
)
