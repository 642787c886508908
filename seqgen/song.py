"""Songs, loops and variations, made of generation and infilling (any plugin whose model takes controls
and can fill in the middle gets all of it; a model without them gets what it can).

- A *form* (:mod:`seqgen.form`) is a list of Sections: a name, a length in bars, its controls, and whether it
  repeats an earlier section of the same name (exactly, or varied: a share of its bars regenerated) or is new.
  :func:`song` generates each new section with its controls (where a per-bar number such as a density is
  asked, the nearest of :data:`SECTION_CANDIDATES`); copies the repeated ones; regenerates the varied bars;
  puts on each section's first step what the plugin's :class:`seqgen.tracks.Arrangement` says a section
  starts with (drums: a crash with the kick); then, at each boundary, makes the bars around it anew, each
  reading both sides (fill-in-the-middle): the next section's first bar (but its first step), then the last
  bar before it, a fill through the plugin's fill controls where there are fills.
- A *loop* (:func:`loop`) is generated, then its end is regenerated reading its own start after it, so the
  last bar leads into the first as into a following bar.

Every regenerated gap followed by kept bars is drawn :data:`CANDIDATES` times; the one the bar after it
follows best (read left to right) is kept, or for a section's first bar the one nearest its per-bar numbers
(measured over the whole bar) unless none is within :data:`HELD_SLACK` and the bar as the section made it is
nearer: the bars before it, another section's, pull its infills towards their own density (a quiet outro
after a loud chorus).
- A *variation* (:func:`vary`) of a clip regenerates a share of its bars by infilling, or (all of it) makes
  a new track with the controls measured on the clip.

Infilling reads a window of :data:`CONTEXT_BARS` bars each side of a gap, so a long song costs what its
bars cost. Bars are 4 quarters, as everywhere in generation.
"""

import attrs
import numpy as np

from seqgen.errors import SeqgenError
from seqgen.form import check_amount
from seqgen.generator import DEFAULT_GUIDANCE

#: Bars read on each side of a regenerated gap (whole phrases of 4 bars before it): 8 made songs 1.4x slower
#: with fills, seams and densities the same within their intervals (docs/models.md).
CONTEXT_BARS = 4
#: New sections drawn per output where a per-bar number is asked for, the nearest to it kept.
SECTION_CANDIDATES = 4
#: Infills drawn per regenerated gap, of which the one the bar after it follows best is kept (docs/models.md).
CANDIDATES = 4
#: How far (relative) from its per-bar numbers a section's first bar, infilled reading the section before, may
#: measure; where every infill is further and the bar as the section made it nearer, that bar is kept.
HELD_SLACK = 0.1
#: Classifier-free guidance of a fill: it must stand out from the beat on both sides of it. 4 gives the drums'
#: default (stage 4) the drummers' 5.4 toms and crashes per fill bar; 10 gave 15 (docs/models.md, "Songs").
FILL_GUIDANCE = 4.0


def _steps_per_bar(generator) -> int:
    return generator.config.steps_per_quarter * 4


def _can_infill(generator) -> bool:
    return generator.prompt.infill


def _regenerate(generator, events, start, end, controls, temperature, rng, guidance=DEFAULT_GUIDANCE, held=False):
    """``events`` with steps ``[start, end)`` infilled anew, reading :data:`CONTEXT_BARS` bars each side, the
    controls weighed by ``guidance``: of :data:`CANDIDATES` infills, the one the bar after it follows best, or
    with ``held``, where a per-bar number is asked for (e.g. a density), the one nearest to it over whole bars
    (or the steps as they were, where no infill is within :data:`HELD_SLACK` and they are nearer)."""
    bar = _steps_per_bar(generator)
    phrase = 4 * bar
    low = max(0, (start - CONTEXT_BARS * bar) // phrase * phrase)
    high = min(len(events), end + CONTEXT_BARS * bar)
    chooser = generator.holder(controls) if held else None
    count = CANDIDATES if end < high else 1
    windows = generator.infill(
        events[low:high],
        start - low,
        end - low,
        num_outputs=count,
        temperature=temperature,
        seed=int(rng.integers(2**63)),
        controls=controls,
        guidance=guidance,
    )
    if chooser and count > 1:
        first = start // bar * bar - low  # measured over whole bars, the gap's kept first step included
        distance = chooser.distances(
            np.stack(
                [
                    generator.config.encoding.events_to_classes(w[first : end - low])
                    for w in [*windows, events[low:high]]
                ]
            )
        )
        best = int(distance[:-1].argmin())
        if distance[best] > max(HELD_SLACK, distance[-1]):  # no infill near enough: the bars as they were
            return events
    else:
        best = _leading(generator, windows, start - low, end - low, bar) if count > 1 else 0
    return events[:low] + windows[best] + events[high:]


def _leading(generator, tracks, start: int, end: int, bar: int) -> int:
    """Which of ``tracks`` (event lists of one length, differing in ``[start, end)``) the bar from step ``end``
    follows best: the highest log-likelihood of its steps given the gap and a phrase (4 bars) before it, read
    left to right with the controls unset."""
    from seqgen.generator import log_softmax

    phrase = 4 * bar
    first = max(0, (start - phrase) // phrase * phrase)
    rows = np.stack([generator.config.encoding.events_to_classes(track[first : end + bar]) for track in tracks])
    end -= first
    log_probs = log_softmax(generator.logits(rows[:, :-1]))
    scored = np.take_along_axis(log_probs, rows[:, 1:, None], -1)[..., 0]
    return int(scored[:, end - 1 :].sum(axis=1).argmax())


def _regenerate_bars(generator, events, bars, first_step, controls, temperature, rng):
    """``events`` with the bars numbered ``bars`` (from ``first_step``) regenerated, each run of adjacent bars
    as one gap."""
    bar = _steps_per_bar(generator)
    for run in _runs(sorted(bars)):
        events = _regenerate(
            generator, events, first_step + run[0] * bar, first_step + (run[-1] + 1) * bar, controls, temperature, rng
        )
    return events


def _runs(numbers) -> list:
    runs = []
    for number in numbers:
        if runs and runs[-1][-1] == number - 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return runs


def _chosen_bars(pool: int, share: float, rng, total: int = None) -> list:
    """A random ``share`` of ``total`` bars (default ``pool``; at least one when ``share`` > 0), drawn from the
    first ``pool`` of them."""
    chosen = min(pool, max(1, round(share * (total or pool)))) if share > 0 else 0
    return sorted(rng.choice(pool, size=chosen, replace=False).tolist())


def song(
    generator,
    sections,
    fills=None,
    variation: float = 0.0,
    num_outputs: int = 1,
    temperature: float = 1.0,
    seed=None,
    base=None,
) -> list:
    """``num_outputs`` songs of the form ``sections`` (Sections, checked): ``[(events, [(name, first step)])]``,
    each section drawn as :meth:`seqgen.generator.Generator.generate` draws (anchored on ``base``, a Generator).

    ``fills``: True, False, or None (fills where the model can make them). ``variation``: the share of a repeated
    section's bars regenerated (a section's own ``variation`` wins; 1 makes it new). A model that cannot fill in
    the middle or has no fill control is refused in one line when asked for fills or variations.
    """
    config = generator.config
    plan = _Plan.of(generator, sections, fills)
    variation = check_amount(variation, "--variation")
    sources, varied = _plan(sections, variation)
    if any(varied.values()) and not _can_infill(generator):
        raise SeqgenError(
            f"--variation needs a model that can fill in the middle; this {config.model} model "
            f"cannot: leave out --variation (repeats are then exact)"
        )
    controls, start, primer = plan.controls, plan.start, plan.primer
    rng = np.random.default_rng(seed)
    bar = _steps_per_bar(generator)
    material = []
    for index, section in enumerate(sections):
        if sources[index] is None:
            steps = max(section.bars * bar, len(primer))
            material.append(_section(generator, primer, steps, num_outputs, temperature, rng, controls[index], base))
        else:
            earlier = material[sources[index]]
            material.append(
                [(events * -(-section.bars * bar // len(events)))[: section.bars * bar] for events in earlier]
            )
    firsts = np.cumsum([0] + [section.bars * bar for section in sections])[:-1].tolist()
    songs = []
    for output in range(num_outputs):
        events = [event for made in material for event in made[output]]
        for index, section in enumerate(sections):
            share = varied.get(index, 0.0)
            if share:
                skip = 1 if section.bars > 1 else 0  # its first bar (but the song's first) and last are seams'
                low, high = skip if index else 0, section.bars - (skip if index < len(sections) - 1 else 0)
                chosen = [low + bar_ for bar_ in _chosen_bars(high - low, share, rng, section.bars)]
                events = _regenerate_bars(generator, events, chosen, firsts[index], controls[index], temperature, rng)
        events = _starts(events, firsts, start)
        for index in range(len(sections) - 1):
            events = plan.seam(events, index, firsts, temperature, rng)
        events = _starts(events, firsts, start)
        songs.append((events, [(section.name, first) for section, first in zip(sections, firsts)]))
    return songs


def arrangement(generator, sections, fills=None) -> tuple:
    """What playing ``sections`` bar by bar (``seqgen live --form``) takes from a song's plan: ``(controls of each
    section, whether there are fills, the fill controls, what a section's first step plays (None: as made))``;
    fills and controls the model lacks are refused in one line, as :func:`song` refuses them."""
    plan = _Plan.of(generator, sections, fills)
    return plan.controls, plan.fills, plan.fill_controls, plan.start


@attrs.frozen
class _Plan:
    """What a song's sections are made with: each one's controls (checked), whether there are fills and their
    controls, what a section's first step plays (None: as generated) and the primer of a new section."""

    generator: object
    sections: list
    controls: list
    fills: bool
    fill_controls: dict
    start: object
    primer: list

    @classmethod
    def of(cls, generator, sections, fills):
        """Refuses in one line fills a model cannot make and controls it cannot take, before any work."""
        from seqgen import plugins

        config = generator.config
        arrangement = plugins.song_arrangement(config)
        fill_controls = dict(arrangement.fill) if arrangement else {}
        names = {control.name for control in generator.controls}
        can_fill = bool(fill_controls) and _can_infill(generator) and set(fill_controls) <= names
        if fills and not can_fill:
            raise SeqgenError(
                f"--fills yes needs a model with {_lacks(generator, fill_controls)}; leave out "
                f"--fills or use a model that has it (seqgen configs lists them)"
            )
        beat = {name: value for name, value in (arrangement.beat if arrangement else {}).items() if name in names}
        controls = [{**beat, **section.controls} for section in sections]
        for values in controls:
            generator.control_tokens(values)
        start = arrangement.section_start if arrangement and arrangement.section_start else None
        primer = (
            config.tracks.parse_primer(config.tracks.default_primer)
            if config.tracks.default_primer
            else [config.encoding.no_event]
        )
        return cls(
            generator,
            list(sections),
            controls,
            can_fill if fills is None else bool(fills),
            fill_controls,
            start,
            primer,
        )

    def seam(self, events, index: int, firsts, temperature, rng) -> list:
        """``events`` with the bars around the boundary after section ``index`` made anew, each reading both
        sides: the next section's first bar (but its first step; the nearest to its per-bar numbers), then the
        last bar before the boundary (a fill, with fills)."""
        generator, bar, after = self.generator, _steps_per_bar(self.generator), firsts[index + 1]
        if self.sections[index + 1].bars > 1:
            events = _regenerate(
                generator, events, after + 1, after + bar, self.controls[index + 1], temperature, rng, held=True
            )
        asked = {**self.controls[index], **self.fill_controls} if self.fills else self.controls[index]
        return _regenerate(
            generator,
            events,
            after - bar,
            after,
            asked,
            temperature,
            rng,
            FILL_GUIDANCE if self.fills else DEFAULT_GUIDANCE,
        )


def regenerate_section(
    generator, events, sections, index: int, fills=None, temperature: float = 1.0, seed=None, base=None
) -> list:
    """``events`` (a song of the form ``sections``) with section ``index`` made anew with its controls (anchored on
    ``base``), every other section kept but the bars around its seams, which are made anew reading both sides."""
    if not 0 <= index < len(sections):
        raise SeqgenError(f"the song has {len(sections)} sections; choose one from 1 to {len(sections)}")
    plan = _Plan.of(generator, sections, fills)
    bar = _steps_per_bar(generator)
    firsts = np.cumsum([0] + [section.bars * bar for section in sections])[:-1].tolist()
    if len(events) != sum(section.bars for section in sections) * bar:
        raise SeqgenError("the song's length does not match its sections")
    rng = np.random.default_rng(seed)
    first, steps = firsts[index], sections[index].bars * bar
    made = _section(
        generator, plan.primer, max(steps, len(plan.primer)), 1, temperature, rng, plan.controls[index], base
    )
    events = _starts(list(events[:first]) + list(made[0][:steps]) + list(events[first + steps :]), firsts, plan.start)
    for seam in (index - 1, index):
        if 0 <= seam < len(sections) - 1:
            events = plan.seam(events, seam, firsts, temperature, rng)
    return _starts(events, firsts, plan.start)


def _section(generator, primer, steps, num_outputs, temperature, rng, controls, base=None) -> list:
    """``num_outputs`` new sections of ``steps`` steps (guidance anchored on ``base``): where a per-bar number is
    asked for (e.g. a density), the nearest to it over the whole section of :data:`SECTION_CANDIDATES` drawn per
    output."""
    chooser = generator.holder(controls)
    count = SECTION_CANDIDATES if chooser else 1
    made = generator.generate(
        primer, steps, num_outputs * count, temperature, seed=int(rng.integers(2**63)), controls=controls, base=base
    )
    if count == 1:
        return made
    rows = chooser.nearest(
        np.stack([generator.config.encoding.events_to_classes(events) for events in made]), num_outputs, 1
    )
    return [made[row] for row in rows]


def _lacks(generator, fill_controls) -> str:
    """What a model lacks to make fills, in words."""
    names = {control.name for control in generator.controls}
    if not fill_controls:
        return "fills (its plugin names no fill control)"
    if not set(fill_controls) <= names:
        return f"the control {', '.join(sorted(set(fill_controls) - names))} (this model has " + (
            f"only {', '.join(sorted(names))})" if names else "no controls)"
        )
    return f"fill-in-the-middle (this {generator.config.model} model cannot fill in the middle)"


def _plan(sections, variation: float):
    """``(sources, varied)``: per section the index of the earlier section it repeats (None: new), and
    ``{index: share of bars regenerated}`` of the varied repeats."""
    first_of, sources, varied = {}, [], {}
    for index, section in enumerate(sections):
        share = variation if section.variation is None else section.variation
        if section.name in first_of and not section.new and share < 1:
            sources.append(first_of[section.name])
            if share > 0:
                varied[index] = share
        else:
            sources.append(None)
            first_of.setdefault(section.name, index)
    return sources, varied


def _starts(events, firsts, start) -> list:
    """``events`` with each section's first step as the arrangement's ``start`` plays it."""
    events = list(events)
    if start:
        for first in firsts:
            events[first] = start(events[first])
    return events


def max_loop_bars(generator) -> int:
    """The longest loop a model makes: the longest track it learned from (its config's extraction)."""
    return max(1, generator.config.extraction.max_steps // _steps_per_bar(generator))


def loop(
    generator,
    primer,
    bars: int,
    num_outputs: int = 1,
    temperature: float = 1.0,
    seed=None,
    controls=None,
    guidance=None,
    on_step=None,
    base=None,
) -> list:
    """``num_outputs`` event lists of ``bars`` bars that loop: generated from ``primer`` (guidance anchored on
    ``base``, a Generator, where given), then from the second bar on (from the second step of a one-bar loop) the
    last bar regenerated reading the loop's start after it."""
    bar = _steps_per_bar(generator)
    limit = max_loop_bars(generator)
    if not 1 <= bars <= limit:
        raise SeqgenError(
            f"--loop_bars {bars} is past this model's limit of {limit} bars (the longest track it "
            f"learned); ask for 1 to {limit}"
        )
    steps = bars * bar
    if len(primer) > steps:
        raise SeqgenError(
            f"the primer ({len(primer)} steps) is longer than --loop_bars {bars} ({steps} steps); "
            f"give a shorter primer or more bars"
        )
    made = generator.generate(
        primer,
        steps,
        num_outputs,
        temperature,
        seed=seed,
        controls=controls,
        guidance=guidance,
        on_step=on_step,
        base=base,
    )
    rng = np.random.default_rng(None if seed is None else (seed, 1))
    gap = max((bars - 1) * bar, len(primer), 1)
    looped = []
    for events in made:
        if gap < steps:
            after = min(bar, gap)
            wrapped = events + events[:after]  # what follows the loop's end: its start again
            candidates = generator.infill(
                wrapped,
                gap,
                steps,
                num_outputs=CANDIDATES,
                temperature=temperature,
                seed=int(rng.integers(2**63)),
                controls=controls,
                guidance=DEFAULT_GUIDANCE if guidance is None else guidance,
            )
            events = candidates[_leading(generator, candidates, gap, steps, after)][:steps]
        looped.append(events)
    return looped


def measured_controls(generator, events, metadata=None) -> dict:
    """The values of a model's controls that can be measured on ``events`` (with ``metadata``, e.g. ``{"qpm": 96}``),
    checked; the others left out."""
    values = {}
    for control in generator.controls:
        if control.measure is None:
            continue
        value = control.measure(list(events), dict(metadata or {}))
        try:
            values[control.name] = control.check(value) if value is not None else None
        except SeqgenError:
            continue
    return {name: value for name, value in values.items() if value is not None}


def vary(
    generator,
    events,
    amount: float,
    num_outputs: int = 1,
    temperature: float = 1.0,
    seed=None,
    metadata=None,
    base=None,
) -> list:
    """``num_outputs`` variations of ``events``: ``amount`` 0 gives them back, 1 a new track of their length with
    the controls measured on them (drawn anchored on ``base``), between a share ``amount`` of their bars (of their
    beats, for a clip of one bar) regenerated by infilling, with those controls."""
    amount = check_amount(amount, "--amount")
    events = list(events)
    if not any(event != generator.config.encoding.no_event for event in events):
        raise SeqgenError("the clip has no notes; give one with some")
    if amount == 0:
        return [list(events) for _ in range(num_outputs)]
    controls = measured_controls(generator, events, metadata)
    rng = np.random.default_rng(seed)
    if amount == 1 or len(events) < 2:
        made = generator.generate(
            events[:1],
            len(events),
            num_outputs,
            temperature,
            seed=int(rng.integers(2**63)),
            controls=controls,
            base=base,
        )
        return [list(track) for track in made]
    bar = _steps_per_bar(generator)
    quarter = generator.config.steps_per_quarter
    unit = bar if len(events) >= 2 * bar else quarter if len(events) >= 2 * quarter else 1
    count = -(-len(events) // unit)
    out = []
    for _ in range(num_outputs):
        varied = list(events)
        chosen = _chosen_bars(count, amount, rng)
        if len(chosen) == count:  # a share short of 1 keeps some of the clip
            del chosen[int(rng.integers(count))]
        for run in _runs(chosen):
            varied = _regenerate(
                generator, varied, run[0] * unit, min((run[-1] + 1) * unit, len(events)), controls, temperature, rng
            )
        out.append(varied)
    return out
