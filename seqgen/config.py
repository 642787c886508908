"""Config: everything that defines one kind of model, as a frozen attrs class.

Overrides make a new Config (``attrs.evolve``); the registered defaults are never mutated.
"""

import attrs

from seqgen.encoding import Encoding
from seqgen.hparams import HParams
from seqgen.tracks import Tracks


@attrs.frozen
class Extraction:
    """How tracks are cut out of quantized NoteSequences (Magenta's extractor settings)."""

    min_bars: int = 7
    max_steps: int = 512
    gap_bars: float = 1.0
    # Cut tracks longer than max_steps into max_steps windows instead of truncating them.
    split_long_tracks: bool = False
    # Treat every note as belonging to the track's instrument (Magenta's ignore_is_drum).
    ignore_is_drum: bool = False


@attrs.frozen
class Config:
    """One model configuration of a plugin, such as the drums plugin's ``drum_kit``."""

    id: str
    description: str
    encoding: Encoding
    tracks: Tracks
    hparams: HParams
    steps_per_quarter: int
    extraction: Extraction = Extraction()
    # Path of a bundle shipped with the plugin, used when a command is given no model; None if none.
    default_bundle: str = None
    plugin: str = ""  # filled in by the plugin registry

    def with_hparams(self, overrides: str) -> "Config":
        """A copy with ``--hparams`` overrides applied."""
        return attrs.evolve(self, hparams=self.hparams.override(overrides))
