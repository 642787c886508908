"""A song form played live (``seqgen live --form``): the plan of each bar, from :mod:`seqgen.song`'s sections and
the plugin's arrangement. A section's controls hold for its bars; the last bar of each section but the last is a
fill (the arrangement's fill controls) where there are fills; each section's first step plays the arrangement's
section start (drums: a crash with the kick). Bars past the form keep its last section's controls."""

import attrs


@attrs.frozen
class PlannedBar:
    """One bar of the form: its section's name, whether it is that section's first bar, and its controls."""

    section: str
    first: bool
    controls: dict


class Form:
    """The bars of ``sections`` (checked :class:`seqgen.form.Section` s) for ``generator``; ``fills`` True, False or
    None (where the model can). Refused in one line, as ``seqgen song`` refuses, before anything plays."""

    def __init__(self, generator, sections, fills=None):
        from seqgen import song

        controls, fills, fill_controls, self.start = song.arrangement(generator, sections, fills)
        self.bars = []
        for index, (section, values) in enumerate(zip(sections, controls)):
            for number in range(section.bars):
                fill = fills and number == section.bars - 1 and index < len(sections) - 1
                self.bars.append(
                    PlannedBar(section.name, number == 0, {**values, **fill_controls} if fill else dict(values))
                )

    def __len__(self) -> int:
        return len(self.bars)

    def bar(self, number: int) -> PlannedBar:
        """Bar ``number`` (0 first) of the form; past its end, its last section's controls, starting nothing."""
        if number < len(self.bars):
            return self.bars[number]
        return attrs.evolve(self.bars[-1], first=False, controls={**self.bars[-1].controls})
