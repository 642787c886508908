"""The drums plugin: Magenta's Drums RNN configurations, ``one_drum`` and ``drum_kit``, and
``drum_kit_transformer`` (with controls and infilling); ``groove`` (velocity and timing for drum scores:
the ``groove`` model family, ``seqgen humanize`` and ``seqgen generate --humanize`` with ``--amount`` and
``--swing``); ``drumify`` (a kit groove that follows a one-voice rhythm: the ``drumify`` model family and
``seqgen drumify``); and ``drum_style`` (which Groove style a track is played in: the ``style_classifier``
model family, the judge of the style control)."""

import os

from seqgen.config import Config, Extraction
from seqgen.families.events_rnn import EventsRNNHParams
from seqgen.families.transformer import TransformerHParams
from seqgen.hookspecs import hookimpl

from seqgen_drums.events.controls import DRUM_CONTROLS
from seqgen_drums.events.encoding import DRUM_KIT_PITCHES, ONE_DRUM_PITCHES, DrumEncoding
from seqgen_drums.events.groove import GrooveTracks
from seqgen_drums.families.groove import DrumifyFamily, GrooveFamily, GrooveHParams
from seqgen_drums.families.style import STYLE_CONTROL, StyleClassifierFamily, StyleClassifierHParams
from seqgen_drums.events.tracks import DrumTracks

__version__ = "0.2.0"

#: The pretrained drum models (docs/models.md), trained by seqgen on the Groove MIDI Dataset: the events RNN,
#: and the transformer, which is better and so the default of `seqgen generate`.
PRETRAINED_DRUM_KIT = os.path.join(os.path.dirname(__file__), "models", "drum_kit_gmd.seqgen")
PRETRAINED_DRUM_KIT_TRANSFORMER = os.path.join(os.path.dirname(__file__), "models", "drum_kit_transformer_gmd.seqgen")
#: The transformer fine-tuned with controls (style, fill, tempo, density) and fill-in-the-middle: the default.
PRETRAINED_DRUM_KIT_CONTROL = os.path.join(os.path.dirname(__file__), "models", "drum_kit_control_gmd.seqgen")
#: The pretrained groove (humanize) models (docs/models.md), trained on the Groove MIDI Dataset: the first,
#: which predicts means, and the one that samples (the default of humanize).
PRETRAINED_GROOVE = os.path.join(os.path.dirname(__file__), "models", "groove_gmd.seqgen")
PRETRAINED_GROOVE_SAMPLING = os.path.join(os.path.dirname(__file__), "models", "groove_sampling_gmd.seqgen")
#: The pretrained drumify model (docs/models.md), trained on the Groove MIDI Dataset.
PRETRAINED_DRUMIFY = os.path.join(os.path.dirname(__file__), "models", "drumify_gmd.seqgen")


ONE_DRUM = Config(
    id="one_drum",
    description="Drums RNN with 2-state encoding: every drum hit is one class.",
    encoding=DrumEncoding(ONE_DRUM_PITCHES),
    tracks=DrumTracks(),
    hparams=EventsRNNHParams(
        batch_size=128,
        rnn_layer_sizes=(128, 128),
        dropout_keep_prob=0.5,
        clip_norm=5,
        learning_rate=0.001,
        precision="auto",
    ),
    steps_per_quarter=2,
    extraction=Extraction(min_bars=7, max_steps=512, gap_bars=1.0),
)

DRUM_KIT = Config(
    id="drum_kit",
    description="Drums RNN with multiple drums and binary counters.",
    encoding=DrumEncoding(DRUM_KIT_PITCHES, binary_counter_bits=6),
    tracks=DrumTracks(),
    hparams=EventsRNNHParams(
        batch_size=128,
        rnn_layer_sizes=(256, 256, 256),
        dropout_keep_prob=0.5,
        attn_length=32,
        clip_norm=3,
        learning_rate=0.001,
        # The device's fastest: on a CPU with bfloat16 units the whole batch in one slice, 0.4 of Magenta's
        # seconds per step with float32's loss curve (docs/benchmarks.md); float32 elsewhere.
        precision="auto",
    ),
    steps_per_quarter=4,
    extraction=Extraction(min_bars=7, max_steps=512, gap_bars=1.0),
    pretrained=(PRETRAINED_DRUM_KIT,),
)

DRUM_KIT_TRANSFORMER = Config(
    id="drum_kit_transformer",
    description="drum_kit's encoding (multiple drums, binary counters) with a Music-Transformer-style decoder.",
    encoding=DRUM_KIT.encoding,
    tracks=DrumTracks(),
    model="transformer",
    hparams=TransformerHParams(controls=True, control_every_step=True, infill=True),
    steps_per_quarter=4,
    extraction=DRUM_KIT.extraction,
    pretrained=(PRETRAINED_DRUM_KIT_CONTROL, PRETRAINED_DRUM_KIT_TRANSFORMER),
    default=True,
    controls=DRUM_CONTROLS,
)

GROOVE = Config(
    id="groove",
    description="Humanize drum scores: velocity and timing of every hit (GrooVAE's Humanize task), bidirectional GRU.",
    encoding=DrumEncoding(DRUM_KIT_PITCHES),
    tracks=GrooveTracks(),
    hparams=GrooveHParams(velocity_bins=32, offset_bins=32),
    steps_per_quarter=4,
    model="groove",
    extraction=Extraction(min_bars=1, max_steps=512, gap_bars=1.0, split_long_tracks=True),
    pretrained=(PRETRAINED_GROOVE_SAMPLING, PRETRAINED_GROOVE),
)

DRUMIFY = Config(
    id="drumify",
    description="Drumify (GrooVAE's Tap2Drum): a full kit groove that follows a one-voice rhythm, bidirectional GRU.",
    encoding=GROOVE.encoding,
    tracks=GrooveTracks(),
    hparams=GrooveHParams(velocity_bins=32, offset_bins=32),
    steps_per_quarter=4,
    model="drumify",
    extraction=GROOVE.extraction,
    pretrained=(PRETRAINED_DRUMIFY,),
)

DRUM_STYLE = Config(
    id="drum_style",
    description="Classify the Groove style of drum tracks, dilated convolutions; its control style is the label "
    "it learns (records from create_dataset carry it), not an input.",
    encoding=DrumEncoding(DRUM_KIT_PITCHES),
    tracks=DrumTracks(),
    hparams=StyleClassifierHParams(),
    steps_per_quarter=4,
    model="style_classifier",
    extraction=Extraction(min_bars=4, max_steps=512, gap_bars=1.0, split_long_tracks=True),
    controls=(STYLE_CONTROL,),
)


@hookimpl
def register_models(register):
    register(GrooveFamily())
    register(StyleClassifierFamily())
    register(DrumifyFamily())


@hookimpl
def register_configs(register):
    register(ONE_DRUM)
    register(DRUM_KIT)
    register(DRUM_KIT_TRANSFORMER)
    register(GROOVE)
    register(DRUM_STYLE)
    register(DRUMIFY)


@hookimpl
def register_commands(register):
    from seqgen.commands import from_module

    from seqgen_drums.commands import drumify, evaluate_drumify, evaluate_groove, evaluate_outputs, humanize

    register(from_module("humanize", humanize))
    register(from_module("drumify", drumify))
    register(from_module("evaluate_groove", evaluate_groove))
    register(from_module("evaluate_drumify", evaluate_drumify))
    register(from_module("evaluate_outputs", evaluate_outputs))


@hookimpl
def postprocess_tracks(args, model, tracks):
    from seqgen_drums.played import humanize

    return humanize.postprocess(args, model, tracks)


@hookimpl
def generate_options(model):
    from seqgen_drums.played import humanize

    return [humanize.generate_option(model)]


@hookimpl
def rhythm_models():
    from seqgen_drums.played import drumify

    return drumify.rhythm_models()


@hookimpl
def song_arrangement(config):
    """Drum songs: a fill through the fill control, a beat elsewhere, and a crash with the kick on each section's
    first step."""
    from seqgen.tracks import Arrangement

    from seqgen_drums.events.tracks import section_start

    if not isinstance(config.tracks, DrumTracks):
        return None
    return Arrangement(fill={"fill": "yes"}, beat={"fill": "no"}, section_start=section_start)


@hookimpl
def extend_command(name, parser):
    """Magenta's drum flags: ``generate --primer_drums`` and ``score --drums`` (same as --primer / --events); and
    ``generate --humanize`` (and ``live --humanize``) with ``--amount``, ``--swing`` and ``--humanize_temperature``."""
    if name == "generate":
        from seqgen_drums.played import humanize

        parser.add_argument("--primer_drums", dest="primer", help='drum primer, e.g. "[(36, 42), (), (42,)]"')
        humanize.add_generate_flag(parser)
    elif name in ("song", "live"):
        from seqgen_drums.played import humanize

        humanize.add_generate_flag(parser)
    elif name == "score":
        parser.add_argument("--drums", dest="events", help='the drum track, e.g. "[(36,), (42,), (), (38, 42)]"')
