"""Config: everything that defines one kind of model, as a frozen attrs class.

Overrides make a new Config (``attrs.evolve``); the registered defaults are never mutated.
"""

import attrs

from seqgen.encoding import Encoding
from seqgen.hparams import HParams
from seqgen.tracks import Tracks


@attrs.frozen
class Extraction:
    """How tracks are cut out of quantized NoteSequences (Magenta's extractor settings), read by a plugin's
    :meth:`seqgen.tracks.Tracks.extract`.

    Attributes:
        min_bars: The shortest track kept, in bars; shorter ones are counted and dropped.
        max_steps: The longest track, in steps: longer ones are cut there (or split, below).
        gap_bars: A silence this many bars long ends a track; the next starts after it.
        split_long_tracks: Cut tracks longer than ``max_steps`` into ``max_steps`` windows instead of
            truncating them.
        ignore_is_drum: Treat every note as belonging to the track's instrument (Magenta's ``ignore_is_drum``).
    """

    min_bars: int = 7
    max_steps: int = 512
    gap_bars: float = 1.0
    split_long_tracks: bool = False
    ignore_is_drum: bool = False


@attrs.frozen
class Config:
    """One model configuration of a plugin, such as the drums plugin's ``drum_kit``.

    Attributes:
        id: The name commands take (``--config drum_kit``); unique among installed plugins.
        description: One line ``seqgen configs`` and ``seqgen plugins`` show.
        encoding: The :class:`seqgen.encoding.Encoding` of events to classes.
        tracks: The :class:`seqgen.tracks.Tracks` that extracts tracks and turns events into notes.
        hparams: An instance of the model family's hparams class (e.g.
            :class:`seqgen.families.transformer.TransformerHParams`), with this config's defaults.
        steps_per_quarter: The grid: steps per quarter note (4: sixteenth notes).
        model: The name of the model family (see :mod:`seqgen.family`) that this config trains.
        extraction: How tracks are cut out of music (:class:`Extraction`).
        pretrained: Paths of bundles shipped with the plugin (``seqgen.load`` knows each by its file's stem);
            the first is the config's default model.
        default: Whether this config's first pretrained model is what ``seqgen generate`` uses when given no
            model.
        controls: The :class:`seqgen.controls.Control` s a model of this config may be steered by (when its
            family takes controls); their values are measured on every track by ``create_dataset``.
        plugin: The registering plugin's name, filled in by the registry.
    """

    id: str
    description: str
    encoding: Encoding
    tracks: Tracks
    hparams: HParams
    steps_per_quarter: int
    model: str = "events_rnn"
    extraction: Extraction = Extraction()
    pretrained: tuple = attrs.field(default=(), converter=tuple)
    default: bool = False
    controls: tuple = attrs.field(default=(), converter=tuple)
    plugin: str = ""

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
