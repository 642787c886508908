"""Generation and scoring over any model family's stepper: batched sampling and Magenta's beam search.

Beam search as Magenta's ``beam_search``: every output starts as ``beam_size`` copies of the primer;
each iteration extends every beam by ``branch_factor`` sampled continuations of
``steps_per_iteration`` steps (the first iteration takes the remainder, so the steps add up) and
keeps the ``beam_size`` most likely; the most likely beam is the output. Plain sampling is the case
``beam_size = branch_factor = 1``. All outputs and beams advance together, one batch per step.
"""

import numpy as np

from seqgen.beam import best, branch
from seqgen.errors import SeqgenError
from seqgen.calibration import CalibratedStepper
from seqgen.guidance import DEFAULT_GUIDANCE, MAX_GUIDANCE, Guided, check_guidance, log_softmax

__all__ = ["DEFAULT_GUIDANCE", "MAX_GUIDANCE", "Generator", "log_softmax"]


def _check_positive(**values):
    for name, value in values.items():
        if not (0 < value < float("inf")):
            raise SeqgenError(f"--{name} must be a positive finite number, got {value}")


def _check_seed(seed):
    if seed is not None and not 0 <= seed < 2**63:
        raise SeqgenError(f"--seed must be a non-negative integer, got {seed}")


class Generator:
    """Extends primers into new event sequences, fills gaps, and scores sequences, with a family's stepper.

    A model that takes controls reads them as prompt tokens before the events (:mod:`seqgen.prompt`);
    ``controls`` ({name: value}) are checked against the config's, unset ones left out.
    """

    def __init__(self, config, stepper, calibration=None):
        from seqgen.prompt import Prompt

        self.config = config
        self.stepper = stepper
        self.prompt = Prompt.of(config)
        #: The model's :class:`seqgen.calibration.Calibration`, whose controls' offsets :meth:`generate` adds.
        self.calibration = calibration

    @property
    def controls(self) -> tuple:
        """The :class:`seqgen.controls.Control` s this model is steered by (empty: none)."""
        return self.prompt.controls

    def _classes(self, events) -> np.ndarray:
        return self.config.encoding.events_to_classes(list(events))

    def control_tokens(self, controls) -> list:
        """The prompt tokens of ``controls``; a one-line SeqgenError for controls this model cannot take."""
        return self.prompt.control_tokens(self._checked(controls))

    def holder(self, controls):
        """What holds the per-bar numbers ``controls`` ask for (e.g. a density) by choosing among drawn tracks: an
        object whose ``nearest(classes, num_outputs, keep)`` gives the rows of ``classes`` [rows, n] (each
        output's rows together) that measure nearest them; None where ``controls`` ask for none."""
        return _FirstBar.of(self, self._checked(controls))

    def _checked(self, controls) -> dict:
        """``controls`` checked (:func:`seqgen.controls.check_controls`), refused in one line by a model
        that takes none."""
        from seqgen.controls import check_controls

        if controls and not self.controls:
            declared = ", ".join(c.name for c in self.config.controls)
            also = (
                f" (its config declares {declared}, but this {self.config.model} model was not trained with them)"
                if declared
                else ""
            )
            raise SeqgenError(
                f"this model takes no controls{also}; generate without --control, or use a model "
                f"with controls (seqgen configs lists them)"
            )
        return check_controls(self.controls, controls)

    def _feed(self, tokens, steps, state=None):
        """Feed one sequence's tokens at their steps: (logits [1, C] after the last, or None, state)."""
        state = self.stepper.initial_state(1) if state is None else state
        if not len(tokens):
            return None, state
        logits, state = self.stepper.feed(np.asarray(tokens, np.int64)[None], steps, state)
        return logits[:, -1], state

    def generate(
        self,
        primer,
        num_steps,
        num_outputs=1,
        temperature=1.0,
        beam_size=1,
        branch_factor=1,
        steps_per_iteration=1,
        seed=None,
        on_step=None,
        controls=None,
        guidance=None,
        base=None,
    ) -> list:
        """``num_outputs`` event lists of exactly ``num_steps`` events, each starting with ``primer``.

        ``on_step()``, when given, is called after each generated step (for progress bars). ``guidance``
        (classifier-free guidance, Ho & Salimans 2022) weighs the controls' effect: the next event is drawn
        from ``unset + guidance * (given - unset)`` of the log-probabilities with the controls given and
        with them all unset; 1 reads the controls plainly, and the default is :meth:`default_guidance` (a
        model trained with its controls dropped at random knows both). A number between two bins' centres is
        read as both bins, their log-probabilities weighed by nearness (:meth:`seqgen.controls.Control.blend`).
        A per-bar number (``Control.per_bar``, e.g. a density) is also held by choice: each output's first bar
        is drawn :data:`BAR_CANDIDATES` times and the one whose measure is nearest the request goes on (a track
        keeps the pace its first bar sets). With ``base`` (a :class:`Generator`), guidance is anchored on it
        (:meth:`anchor`). The calibration's offsets of the values set are added (:mod:`seqgen.calibration`).
        """
        if base is not None and not self._checked(controls):  # the base plays alone
            self.check_base(base)
            search = (temperature, beam_size, branch_factor, steps_per_iteration)
            return base.generate(primer, num_steps, num_outputs, *search, seed, on_step, guidance=guidance)
        primer = _checked_primer(primer, num_steps)
        _check_seed(seed)
        _check_positive(
            num_outputs=num_outputs,
            temperature=temperature,
            beam_size=beam_size,
            branch_factor=branch_factor,
            steps_per_iteration=steps_per_iteration,
        )
        values = self._checked(controls)
        guidance = check_guidance(self.default_guidance(values) if guidance is None else guidance)
        generated = self._search(
            self._classes(primer),
            num_steps - len(primer),
            num_outputs,
            temperature,
            beam_size,
            branch_factor,
            steps_per_iteration,
            np.random.default_rng(seed),
            on_step or (lambda: None),
            self.prompt.blended_tokens(values),
            guidance,
            _FirstBar.of(self, values) if guidance else None,
            self.anchor(base, values),
            self.calibration.control_table(self.controls, values, self.config.encoding) if self.calibration else None,
        )
        return [primer + [self.config.encoding.class_to_event(int(c)) for c in row] for row in generated]

    def anchor(self, base, values):
        """The base the guidance of ``values`` (checked controls, some set) is anchored on (:mod:`seqgen.guidance`):
        ``base + guidance * (given - unset)``, ``base`` being the :class:`Generator` of a model of the same encoding
        without controls; None (this model's own guidance) without a base or with a per-bar number set (the base,
        which never read a bar's number, pulls each bar to its own pace: docs/models.md)."""
        if base is None:
            return None
        self.check_base(base)
        return None if any(c.per_bar and c.name in values for c in self.controls) else base

    def check_base(self, base) -> None:
        """Refuse in one line a guidance base that takes controls or reads another encoding."""
        if base.controls:
            raise SeqgenError(
                "the guidance base takes controls itself; give a model without controls (e.g. the plain model "
                "the controlled one was fine-tuned from)"
            )
        mine = (self.config.encoding.num_classes, self.config.steps_per_quarter)
        theirs = (base.config.encoding.num_classes, base.config.steps_per_quarter)
        if mine != theirs:
            raise SeqgenError(
                f"the guidance base reads {theirs[0]} classes at {theirs[1]} steps per quarter, this model "
                f"{mine[0]} at {mine[1]}; give a base of this model's encoding ({self.config.id})"
            )

    def default_guidance(self, values) -> float:
        """The guidance of a generation with ``values`` (checked controls) when none is asked for: 1 (the
        controls read plainly, one stream; guidance is off) with none set, else the largest of the set
        controls' own (:attr:`seqgen.controls.Control.guidance`, :data:`DEFAULT_GUIDANCE` where a control
        has none)."""
        return max(
            (
                DEFAULT_GUIDANCE if control.guidance is None else control.guidance
                for control in self.controls
                if control.name in values
            ),
            default=1.0,
        )

    def _search(
        self,
        primer,
        num_new,
        num_outputs,
        temperature,
        beam_size,
        branch_factor,
        steps_per_iteration,
        rng,
        on_step,
        prompts=((1.0, ()),),
        guidance=1.0,
        first_bar=None,
        base=None,
        offsets=None,
    ) -> np.ndarray:
        """Classes [num_outputs, num_new] continuing the primer classes after ``prompts``: (weight, prompt
        tokens) rows, read together (:meth:`seqgen.prompt.Prompt.blended_tokens`). With ``first_bar`` (a
        :class:`_FirstBar`), each output's beams are drawn that many times over until its first bar is
        generated, then the ones nearest the requested values go on. ``offsets`` [steps per bar, classes] are
        added to the logits of each step (:meth:`seqgen.calibration.Calibration.control_table`)."""
        stepper, logits, state = self._start(primer, prompts, guidance, base)
        if offsets is not None:
            stepper = CalibratedStepper(stepper, offsets)
            logits = stepper.shifted(logits, len(primer))
        if num_new == 0:
            return np.zeros((num_outputs, 0), np.int64)
        keep = beam_size * (first_bar.candidates if first_bar else 1)  # rows kept per output
        rows = np.zeros(num_outputs * keep, np.int64)
        state, logits = stepper.reorder(state, rows), logits[rows]
        scores = np.zeros(len(rows))
        out = np.zeros((len(rows), num_new), np.int64)
        first = (num_new - 1) % steps_per_iteration + 1
        lengths = [first] + [steps_per_iteration] * ((num_new - first) // steps_per_iteration)
        done = 0
        for iteration, length in enumerate(lengths):
            if iteration:
                rows = best(scores, num_outputs, keep)
            else:
                rows = np.arange(len(scores))
            rows = branch(rows, num_outputs, branch_factor)
            state, logits, scores, out = stepper.reorder(state, rows), logits[rows], scores[rows], out[rows]
            for _ in range(length):
                log_probs = log_softmax(logits, temperature)
                chosen = _sample(log_probs, rng)
                scores += log_probs[np.arange(len(chosen)), chosen]
                out[:, done] = chosen
                done += 1
                on_step()
                if first_bar and ((len(primer) + done) % first_bar.steps_per_bar == 0 or done == num_new):
                    rows = first_bar.nearest(out[:, :done], num_outputs, beam_size)
                    state, logits, scores, out = stepper.reorder(state, rows), logits[rows], scores[rows], out[rows]
                    chosen, first_bar, keep = out[:, done - 1], None, beam_size
                if done < num_new:
                    logits, state = stepper.step(chosen, len(primer) + done - 1, state)
        return out[best(scores, num_outputs, 1)]

    def _start(self, primer, prompts, guidance, base):
        """(stepper, logits, state) after reading the primer classes after each row of ``prompts``: this model's
        stepper for one row read plainly, else a :class:`seqgen.guidance.Guided` one over every row, the unset
        stream (guidance other than 1, or anchored) and the ``base`` Generator's stream."""
        unset = self.prompt.control_tokens({})
        guided = guidance != 1.0 or base is not None
        streams = [list(tokens) for _, tokens in prompts] + ([unset] if guided else [])
        steps = [0] * len(unset) + list(range(len(primer)))
        if len(streams) == 1:
            return (self.stepper, *self._feed(streams[0] + list(primer), steps))
        weights = [weight for weight, _ in prompts]
        anchor = None if base is None else base.stepper
        stepper = Guided(self.stepper, weights, guidance, len(streams), anchor, len(unset))
        return (stepper, *stepper.start(np.array([row + list(primer) for row in streams], np.int64), steps))

    def logits(self, classes, prompts=None) -> np.ndarray:
        """Logits [B, T, C] of class sequences [B, T] read after the rows of ``prompts`` [B, K] (prompt
        tokens, e.g. of controls; none by default): what :meth:`log_likelihood` and evaluation read."""
        classes = np.asarray(classes, np.int64)
        prompts = np.zeros((len(classes), 0), np.int64) if prompts is None else np.asarray(prompts, np.int64)
        if not prompts.shape[1] and not self.controls:
            return self.stepper.logits(classes)
        if not prompts.shape[1]:
            prompts = np.tile(self.prompt.control_tokens({}), (len(classes), 1))
        count = prompts.shape[1]
        logits, _ = self.stepper.feed(
            np.concatenate([prompts, classes], 1),
            [0] * count + list(range(classes.shape[1])),
            self.stepper.initial_state(len(classes)),
        )
        return logits[:, count:]

    def log_likelihood(self, events, controls=None):
        """Magenta's ``drum_track_log_likelihood``: (sum of log P(event t | events before t) for t >= 1,
        the per-step probabilities P(event t | events before t) for t >= 1), given ``controls``."""
        classes = self._classes(events)
        tokens = self.control_tokens(controls)
        if len(classes) < 2:
            return 0.0, np.zeros(0)
        log_probs = log_softmax(self.logits(classes[None, :-1], [tokens] if tokens else None)[0])
        scored = log_probs[np.arange(len(classes) - 1), classes[1:]]
        return float(scored.sum()), np.exp(scored)

    def infill(
        self,
        events,
        start: int,
        end: int,
        parts=None,
        num_outputs=1,
        temperature=1.0,
        seed=None,
        controls=None,
        method=None,
        candidates=8,
        guidance=None,
    ) -> list:
        """``num_outputs`` copies of ``events`` with steps ``[start, end)`` generated anew; with ``parts``
        (names of the encoding's parts, e.g. instruments), only those parts of those steps, every other
        part kept exactly.

        ``method``: "middle" (the family reads both sides: fill-in-the-middle; the default of a model that
        :meth:`~seqgen.family.ModelFamily.infills`), "rescore" (the default of every other model: sample
        ``candidates`` gaps left to right per output and keep the one under which the kept steps after the
        gap are most likely; any family; tighter seams, at about 20 times the time) or "left" (left to right,
        ignoring what follows). See docs/models.md, "Infilling". ``guidance`` weighs the controls as
        :meth:`generate` does (default 1: read plainly; "middle" and "left" only).
        """
        from seqgen.infill import check_gap

        encoding = self.config.encoding
        classes = self._classes(events)
        start, end, allowed, pairs = check_gap(encoding, classes, start, end, parts)
        method = method or ("middle" if self.prompt.infill else "rescore")
        if method not in ("middle", "rescore", "left"):
            raise SeqgenError(f"unknown infill method {method!r}; use middle, rescore or left")
        if method == "middle" and not self.prompt.infill:
            raise SeqgenError(f"this {self.config.model} model cannot fill in the middle; use method rescore or left")
        _check_positive(num_outputs=num_outputs, temperature=temperature, candidates=candidates)
        _check_seed(seed)
        rng = np.random.default_rng(seed)
        controls = self.control_tokens(controls)
        guidance = check_guidance(1.0 if guidance is None or not controls else guidance)
        if end == len(classes) or method == "left":
            gaps, _ = self._sample_gap(
                classes, start, end, allowed, num_outputs, temperature, rng, controls, guidance=guidance, pairs=pairs
            )
        elif method == "middle":
            tokens, steps = self.prompt.context_before_gap(classes, start, end, controls)
            gaps, _ = self._sample_gap(
                classes, start, end, allowed, num_outputs, temperature, rng, controls, (tokens, steps), guidance, pairs
            )
        else:
            gaps = self._rescored_gaps(
                classes, start, end, allowed, num_outputs, temperature, rng, controls, candidates, pairs
            )
        decode = encoding.class_to_event
        return [list(events[:start]) + [decode(int(c)) for c in gap] + list(events[end:]) for gap in gaps]

    def _sample_gap(
        self, classes, start, end, allowed, rows, temperature, rng, controls, context=None, guidance=1.0, pairs=None
    ):
        """Gap classes [rows, end - start] sampled left to right after ``context`` (tokens, steps), by
        default the plain stream of the events before the gap, each step only among its ``allowed`` and, with
        ``pairs`` (:func:`seqgen.infill.order`), those that may come after the step drawn before it (with
        ``guidance`` other than 1, mixed with the same stream with the controls unset, as :meth:`generate`); and
        the state after the context and the gap but its last class."""
        plain = context is None
        if plain:
            context = (list(controls) + list(classes[:start]), [0] * len(controls) + list(range(start)))
        if guidance != 1.0:
            unset = self.prompt.control_tokens({}) + list(context[0][len(controls) :])
            stepper = Guided(self.stepper, [1.0], guidance, 2)
            logits, state = stepper.start(np.array([list(context[0]), unset], np.int64), context[1])
        else:
            stepper = self.stepper
            logits, state = self._feed(*context)
        state = stepper.reorder(state, np.zeros(rows, np.int64))
        logits = None if logits is None else logits[np.zeros(rows, np.int64)]
        out = np.zeros((rows, end - start), np.int64)
        for t in range(start, end):
            if t == 0 and plain:  # a plain stream never predicts the first step: see _first_step
                log_probs = _first_step(classes[end:], allowed[0])[None].repeat(rows, 0)
            else:
                mask = allowed[t - start]
                if pairs is not None and t > start:
                    mask = mask & pairs[out[:, t - start - 1]]
                log_probs = log_softmax(np.where(mask, logits, -np.inf), temperature)
            out[:, t - start] = _sample(log_probs, rng)
            if t + 1 < end:
                logits, state = stepper.step(out[:, t - start], t, state)
        return out, state

    def _rescored_gaps(self, classes, start, end, allowed, rows, temperature, rng, controls, candidates, pairs=None):
        """Per output, the best of ``candidates`` left-to-right gaps by the log-likelihood of the kept steps
        after the gap (the events RNN's way of seeing the right side)."""
        gaps, state = self._sample_gap(
            classes, start, end, allowed, rows * candidates, temperature, rng, controls, pairs=pairs
        )
        # Read on from the sampling state: the gap's last class, then the kept steps but the last.
        tokens = np.concatenate([gaps[:, -1:], np.tile(classes[end:-1], (len(gaps), 1))], 1)
        logits, _ = self.stepper.feed(tokens, range(end - 1, len(classes) - 1), state)
        log_probs = np.take_along_axis(log_softmax(logits), np.tile(classes[end:], (len(gaps), 1))[..., None], -1)
        scores = log_probs[..., 0].sum(axis=1)
        chosen = scores.reshape(rows, candidates).argmax(axis=1) + np.arange(rows) * candidates
        return gaps[chosen]

    def gap_log_likelihood(self, events, start: int, end: int, both_sides: bool = True, controls=None) -> float:
        """log P(the events of ``[start, end)`` | the rest): read with the steps after the gap
        (fill-in-the-middle) when ``both_sides``, else given the steps before it only (then a gap from the
        first step leaves that step out: a plain stream never predicts it)."""
        return float(self.gap_log_likelihoods([events], start, end, both_sides, controls)[0])

    def gap_log_likelihoods(self, tracks, start: int, end: int, both_sides: bool = True, controls=None):
        """:meth:`gap_log_likelihood` of each of ``tracks`` (event lists of one length), read as one batch."""
        classes = [self._classes(events) for events in tracks]
        controls = self.control_tokens(controls)
        if both_sides:
            if not self.prompt.infill:
                raise SeqgenError(f"this {self.config.model} model cannot fill in the middle")
            streams = [self.prompt.fill_in_middle(row, start, end, controls) for row in classes]
        else:
            streams = [self.prompt.plain(row[:end], controls) for row in classes]
        tokens, labels = (np.stack([stream[k] for stream in streams]) for k in (0, 2))
        logits, _ = self.stepper.feed(tokens, streams[0][1], self.stepper.initial_state(len(tracks)))
        gap = slice(max(tokens.shape[1] - (end - start), 0), None)  # the gap's events: the last labels
        labels = labels[:, gap]
        scored = np.take_along_axis(log_softmax(logits[:, gap]), np.maximum(labels, 0)[..., None], -1)[..., 0]
        return np.where(labels >= 0, scored, 0.0).sum(axis=1)


#: How many times :meth:`Generator.generate` draws each output's first bar when a per-bar number is set.
BAR_CANDIDATES = 4


class _FirstBar:
    """The set per-bar numbers (:attr:`seqgen.controls.Control.per_bar`) of a generation, which it holds
    by choosing among :data:`BAR_CANDIDATES` first bars per output. A model follows such a control only
    roughly bar by bar (a bin spans a range; guidance pushes away from the unset value) and a track keeps
    the pace its first bar sets, so choosing the first bar steers the whole track (docs/models.md)."""

    def __init__(self, generator, targets: dict):
        self.targets, self.candidates = targets, BAR_CANDIDATES
        self.decode = generator.config.encoding.class_to_event
        self.steps_per_bar = generator.config.steps_per_quarter * 4  # 4/4, as training measured bars

    @classmethod
    def of(cls, generator, values: dict):
        """The held controls of ``values`` (checked), or None where none is set."""
        targets = {
            control: float(values[control.name])
            for control in generator.controls
            if control.per_bar and control.kind == "number" and control.name in values
        }
        return cls(generator, targets) if targets and BAR_CANDIDATES > 1 else None

    def distances(self, generated) -> np.ndarray:
        """How far each row of ``generated`` (classes [rows, n]) measures from the requests: relative distances
        (to the request, or to 1 where it is smaller), summed over the requests."""
        distance = np.zeros(len(generated))
        for control, target in self.targets.items():
            measured = np.array([control.measure([self.decode(int(c)) for c in row], {}) for row in generated])
            distance += np.abs(measured - target) / max(abs(target), 1.0)
        return distance

    def nearest(self, generated, num_outputs: int, keep: int) -> np.ndarray:
        """Rows of ``generated`` (classes [rows, n], each output's rows together): each output's ``keep``
        whose steps measure nearest the requests (:meth:`distances`)."""
        distance = self.distances(generated)
        order = np.argsort(distance.reshape(num_outputs, -1), axis=1, kind="stable")[:, :keep]
        return (order + np.arange(num_outputs)[:, None] * (len(generated) // num_outputs)).reshape(-1)


def _checked_primer(primer, num_steps: int) -> list:
    """``primer`` as a list, refused in one line when empty or longer than ``num_steps``."""
    primer = list(primer)
    if not primer:
        raise SeqgenError("the primer is empty; give at least one event")
    if num_steps < len(primer):
        raise SeqgenError(
            f"--num_steps {num_steps} is shorter than the primer ({len(primer)} steps); "
            f"ask for at least {len(primer)} steps"
        )
    return primer


def _first_step(kept, allowed) -> np.ndarray:
    """Log-probabilities [C] of a track's first step where no model predicts it: the allowed classes as often
    as the ``kept`` steps play them (a drum track's own hits, not any of the 512 combinations alike), or
    every allowed class alike when the kept steps play none."""
    weights = np.bincount(kept, minlength=len(allowed)) * allowed
    weights = weights if weights.any() else allowed.astype(np.int64)
    with np.errstate(divide="ignore"):
        return np.log(weights / weights.sum())


def _sample(log_probs, rng) -> np.ndarray:
    """One class per row drawn from ``log_probs`` [B, C] (rows may hold -inf)."""
    cdf = np.cumsum(np.exp(log_probs), axis=1)
    draws = rng.random(len(cdf))[:, None] * cdf[:, -1:]
    return np.minimum((cdf < draws).sum(axis=1), cdf.shape[1] - 1)
