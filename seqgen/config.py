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
    #: An instance of the model family's hparams class, with this config's defaults.
    hparams: HParams
    steps_per_quarter: int
    #: The name of the model family (see :mod:`seqgen.family`) that this config trains.
    model: str = "events_rnn"
    extraction: Extraction = Extraction()
    #: Paths of bundles shipped with the plugin (``seqgen.load`` knows each by its file's stem); the first
    #: is the config's default model.
    pretrained: tuple = attrs.field(default=(), converter=tuple)
    #: Whether this config's first pretrained model is what ``seqgen generate`` uses when given no model.
    default: bool = False
    #: The :class:`seqgen.controls.Control` s a model of this config may be steered by (when its family
    #: takes controls); their values are measured on every track by ``create_dataset``.
    controls: tuple = attrs.field(default=(), converter=tuple)
    plugin: str = ""  # filled in by the plugin registry

    @property
    def family(self):
        """The registered :class:`seqgen.family.ModelFamily` named by ``model``."""
        from seqgen import plugins

        return plugins.get_family(self.model)

    @property
    def default_bundle(self):
        return self.pretrained[0] if self.pretrained else None

    def with_hparams(self, overrides: str) -> "Config":
        """A copy with ``--hparams`` overrides applied."""
        return attrs.evolve(self, hparams=self.hparams.override(overrides))
