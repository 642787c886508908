"""A trained model, as :func:`seqgen.load` returns it: generate and score with any family.

Generation and scoring run on the family's NumPy stepper, so a model loaded from a bundle needs no
TensorFlow.
"""

import functools
import os

import attrs

from seqgen.errors import SeqgenError


@attrs.frozen
class Track:
    """One sequence of events of a config, playable at ``qpm``."""

    events: list
    config: object = attrs.field(repr=False)
    qpm: float = 120.0

    def __len__(self) -> int:
        return len(self.events)

    def __str__(self) -> str:
        return self.config.tracks.format_events(self.events)

    def to_note_sequence(self):
        """A note_seq ``NoteSequence`` that plays the track."""
        return self.config.tracks.to_note_sequence(self.events, self.config.steps_per_quarter, self.qpm)

    def to_midi(self):
        """A ``pretty_midi.PrettyMIDI`` that plays the track."""
        return self.config.tracks.to_midi(self.events, self.config.steps_per_quarter, self.qpm)

    def write_midi(self, path, overwrite: bool = False) -> None:
        """Write the track as a MIDI file; an existing file is replaced only when ``overwrite`` is given."""
        from seqgen.files import atomic_path

        if os.path.exists(path) and not overwrite:
            raise SeqgenError(f"{path} already exists; choose another file name or pass overwrite=True")
        with atomic_path(os.fspath(path), replace=overwrite) as temporary:
            self.to_midi().write(temporary)


@attrs.frozen
class Song(Track):
    """A Track holding a whole song: ``sections`` are its ``(name, first step)`` pairs. Its MIDI file
    (:meth:`to_midi`, a :class:`seqgen.tracks.MarkedMidi`) has a marker naming each section at its first step
    and lasts exactly the song's bars."""

    sections: tuple = attrs.field(default=(), converter=tuple)

    def to_midi(self):
        return self.marked(super().to_midi())

    def marked(self, midi):
        """``midi`` (a PrettyMIDI of this song, e.g. a humanized one) with the song's markers and length."""
        from seqgen.tracks import MarkedMidi, seconds_per_step

        seconds = seconds_per_step(self.config.steps_per_quarter, self.qpm)
        return MarkedMidi(midi, tuple((first * seconds, name) for name, first in self.sections), len(self) * seconds)


@attrs.frozen
class Score:
    """Magenta's log-likelihood of a track: the sum over events 1.. of log P(event t | events before t),
    and those probabilities step by step."""

    log_likelihood: float
    probabilities: list


@attrs.frozen(slots=False)
class GuidanceBase:
    """The model a bundle's guidance is anchored on by default: its ``name``, loaded by ``loader(name)`` when
    first used (:func:`seqgen.loading.load`)."""

    name: str
    loader: object = attrs.field(repr=False)

    @functools.cached_property
    def model(self) -> "Model":
        return self.loader(self.name)


@attrs.frozen(slots=False)  # slots=False: room for the cached generator
class Model:
    """A config, its trained weights (keyed by variable name), where they came from, and the model its
    guidance is anchored on by default (a :class:`GuidanceBase`, or None)."""

    config: object
    weights: dict = attrs.field(repr=False)
    description: str = ""
    source: str = ""
    guidance_base: GuidanceBase = attrs.field(default=None, repr=False)
    #: Its sampling matched to its data, alone and with each control's values (:mod:`seqgen.calibration`), or None.
    calibration: object = attrs.field(default=None, repr=False)

    @property
    def family(self):
        return self.config.family

    def __getattr__(self, name):
        """The operations the model's family adds (``ModelFamily.operations``), e.g. ``humanize(track)``."""
        if name.startswith("_") or name in (
            "config",
            "weights",
            "description",
            "source",
            "guidance_base",
            "calibration",
        ):
            raise AttributeError(name)
        operation = self.family.operations().get(name)
        if operation is None:
            raise AttributeError(f"a {self.config.model} model has no attribute {name!r}")
        return functools.partial(operation, self)

    @functools.cached_property
    def generator(self):
        from seqgen.calibration import stepper_of
        from seqgen.generator import Generator

        return Generator(self.config, stepper_of(self.config, self.weights, self.calibration), self.calibration)

    def _base(self):
        """The Generator of the bundle's guidance base (what songs, loops and variations are anchored on), or None."""
        return self.guidance_base.model.generator if self.guidance_base is not None else None

    def primer(self, primer=None) -> list:
        """Events from a primer: None (the config's default), primer text, a Track or a list of events."""
        tracks = self.config.tracks
        if primer is None:
            if tracks.default_primer is None:
                raise SeqgenError(f"{self.config.id} has no default primer; give one")
            return tracks.parse_primer(tracks.default_primer)
        if isinstance(primer, str):
            return tracks.parse_primer(primer)
        if isinstance(primer, Track):
            return list(primer.events)
        return list(primer)

    @property
    def controls(self) -> tuple:
        """The :class:`seqgen.controls.Control` s this model is steered by (empty when it takes none)."""
        if not self.family.generative:
            return ()
        return self.generator.controls

    def generate(
        self,
        num_outputs: int = 1,
        num_steps: int = 128,
        primer=None,
        temperature: float = 1.0,
        seed=None,
        beam_size: int = 1,
        branch_factor: int = 1,
        steps_per_iteration: int = 1,
        qpm: float = 120.0,
        on_step=None,
        controls=None,
        guidance=None,
        guidance_base=None,
    ) -> list:
        """``num_outputs`` Tracks of exactly ``num_steps`` events, each continuing ``primer``, steered by
        ``controls`` ({name: value}, e.g. ``{"style": "funk", "density": 12}``; see :attr:`controls`) with
        classifier-free ``guidance`` (see :meth:`seqgen.generator.Generator.generate`), anchored on
        ``guidance_base`` (a loaded model without controls: with no control set it plays alone, with some their
        effect is added to what it plays; :mod:`seqgen.guidance`): by default the bundle's own, if it names one;
        False: none."""
        if guidance_base is None and self.guidance_base is not None:
            guidance_base = self.guidance_base.model
        events = self.generator.generate(
            self.primer(primer),
            num_steps,
            num_outputs,
            temperature,
            beam_size,
            branch_factor,
            steps_per_iteration,
            seed,
            on_step,
            controls,
            guidance,
            guidance_base.generator if guidance_base else None,
        )
        return [Track(track, self.config, qpm) for track in events]

    def infill(
        self,
        track,
        bars=None,
        steps=None,
        instruments=None,
        num_outputs: int = 1,
        temperature: float = 1.0,
        seed=None,
        controls=None,
        steps_per_bar: int = None,
        method: str = None,
    ) -> list:
        """``num_outputs`` copies of ``track`` with the selected ``bars`` or ``steps`` (counted from 1, both
        ends included: ``"3-4"``, ``(3, 4)`` or ``5``) regenerated, and of them only ``instruments`` (names
        of the encoding's parts, e.g. ``["hihat_closed"]``) when given; everything else is kept exactly.
        ``steps_per_bar`` defaults to 4 quarters. See :meth:`seqgen.generator.Generator.infill` for
        ``method``."""
        from seqgen.infill import selection

        events = self.primer(track)
        if not events:
            raise SeqgenError("the track is empty; nothing to infill")
        if isinstance(instruments, str):
            instruments = [name.strip() for name in instruments.split(",") if name.strip()]
        bar = steps_per_bar or self.config.steps_per_quarter * 4
        start, end = selection(len(events), bar, bars, steps)
        filled = self.generator.infill(
            events, start, end, instruments, num_outputs, temperature, seed, controls, method
        )
        qpm = track.qpm if isinstance(track, Track) else 120.0
        return [Track(events, self.config, qpm) for events in filled]

    def song(
        self,
        form,
        controls=None,
        fills=None,
        variation: float = 0.0,
        num_outputs: int = 1,
        temperature: float = 1.0,
        seed=None,
        qpm: float = 120.0,
    ) -> list:
        """``num_outputs`` :class:`Song` s of ``form`` (``"intro:4 verse:8 chorus:8 verse:8"``, or
        :class:`seqgen.form.Section` s or ``(name, bars)`` pairs), each section steered by ``controls``
        (``{section name: {control: value}}``), with ``fills`` into each change (None: where the model can) and
        a share ``variation`` of each repeated section's bars regenerated (0: exact repeats). See
        :mod:`seqgen.song`."""
        from seqgen import form as forms, song

        sections = forms.parse_form(form) if isinstance(form, str) else forms.check_form(form)
        sections = forms.with_controls(sections, controls)
        made = song.song(self.generator, sections, fills, variation, num_outputs, temperature, seed, self._base())
        return [Song(events, self.config, qpm, sections=firsts) for events, firsts in made]

    def regenerate_section(
        self, song: "Song", section: int, controls=None, fills=None, temperature: float = 1.0, seed=None
    ) -> "Song":
        """``song`` with its ``section`` (counted from 1) made anew, steered by ``controls`` (``{section name:
        {control: value}}``, as :meth:`song`); every other section is kept but the bars around the new one's
        seams, which are made anew reading both sides (:func:`seqgen.song.regenerate_section`)."""
        from seqgen import form, song as songs

        firsts = [first for _, first in song.sections] + [len(song)]
        bar = self.config.steps_per_quarter * 4
        sections = form.with_controls(
            [form.Section(name, (end - first) // bar) for (name, first), end in zip(song.sections, firsts[1:])],
            controls,
        )
        events = songs.regenerate_section(
            self.generator, song.events, sections, section - 1, fills, temperature, seed, self._base()
        )
        return Song(events, self.config, song.qpm, sections=song.sections)

    def loop(
        self,
        bars: int,
        repeats: int = 1,
        num_outputs: int = 1,
        primer=None,
        temperature: float = 1.0,
        seed=None,
        qpm: float = 120.0,
        controls=None,
        guidance=None,
    ) -> list:
        """``num_outputs`` Songs (of no sections: Tracks whose MIDI files last exactly their bars) of a
        ``bars``-bar loop played ``repeats`` times: its last bar leads into its first (:func:`seqgen.song.loop`),
        drawn as :meth:`generate` draws (anchored on the bundle's guidance base, if it names one)."""
        from seqgen import song

        if repeats < 1:
            raise SeqgenError(f"--loop_repeats must be a positive integer, got {repeats}")
        made = song.loop(
            self.generator,
            self.primer(primer),
            bars,
            num_outputs,
            temperature,
            seed,
            controls,
            guidance,
            base=self._base(),
        )
        return [Song(events * repeats, self.config, qpm) for events in made]  # a MIDI file of exactly its bars

    def vary(self, track, amount: float, num_outputs: int = 1, temperature: float = 1.0, seed=None) -> list:
        """``num_outputs`` variations of ``track``: ``amount`` 0 gives it back, 1 a new track with the controls
        measured on it, between that share of its bars regenerated (:func:`seqgen.song.vary`)."""
        from seqgen import song

        qpm = track.qpm if isinstance(track, Track) else 120.0
        made = song.vary(
            self.generator, self.primer(track), amount, num_outputs, temperature, seed, {"qpm": qpm}, self._base()
        )
        return [Track(events, self.config, qpm) for events in made]

    def score(self, track, controls=None) -> Score:
        """The log-likelihood of ``track`` (a Track, primer text or a list of events), given ``controls``."""
        events = self.primer(track)
        if not events:
            raise SeqgenError("the track is empty; nothing to score")
        log_likelihood, probabilities = self.generator.log_likelihood(events, controls)
        return Score(log_likelihood, probabilities.tolist())

    def save(self, path, description: str = None, guidance_base=None) -> None:
        """Write the model as a ``.seqgen`` bundle; an existing file is never replaced. ``guidance_base``: the
        model (loaded, with the name it was loaded by as its ``source``) its guidance is anchored on by
        default, else this model's own."""
        from seqgen import bundle

        if guidance_base is not None:
            self.generator.check_base(guidance_base.generator)
            base = guidance_base.source
        else:
            base = self.guidance_base and self.guidance_base.name
        description = self.description if description is None else description
        calibration = self.calibration.manifest() if self.calibration is not None else None
        bundle.save(path, self.config, self.weights, description, base, calibration)
