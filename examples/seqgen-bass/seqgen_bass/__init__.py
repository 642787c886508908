"""seqgen-bass: monophonic bass lines (an example plugin; see seqgen's docs/plugins.md)."""

from seqgen.plugin import Config, Extraction, hookimpl

from seqgen_bass.encoding import BassEncoding
from seqgen_bass.family import BassGRUFamily, BassGRUHParams
from seqgen_bass.tracks import BassTracks

__version__ = "0.1.0"

BASS_LINE = Config(
    id="bass_line",
    description="Monophonic bass lines (General MIDI bass programs), one note or rest per 16th note.",
    encoding=BassEncoding(),
    tracks=BassTracks(),
    model="bass_gru",
    hparams=BassGRUHParams(batch_size=16, embedding_size=16, gru_size=32, clip_norm=3, learning_rate=0.01),
    steps_per_quarter=4,
    extraction=Extraction(min_bars=2, max_steps=128, gap_bars=1.0),
)


@hookimpl
def register_models(register):
    register(BassGRUFamily())


@hookimpl
def register_configs(register):
    register(BASS_LINE)
