"""A song's form: its sections (a name, a length in bars, controls, and whether each repeats an earlier
section of its name, varies it or is new), parsed from ``"intro:4 verse:8 chorus:8"`` and checked, each
mistake refused in one line. :mod:`seqgen.song` makes the music of a form; ``seqgen live --form`` plays one."""

import re

import attrs
import numpy as np

from seqgen.errors import SeqgenError

#: The most bars a form may hold in all.
MAX_BARS = 1024
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_FORM_HINT = 'write sections as name:bars, e.g. --form "intro:4 verse:8 chorus:8 verse:8 chorus:8 outro:4"'


@attrs.frozen
class Section:
    """One section of a form. ``variation`` (0..1, None: the song's) is the share of its bars regenerated
    when it repeats an earlier section of its name; ``new`` makes it new even so."""

    name: str
    bars: int
    controls: dict = attrs.field(factory=dict)
    variation: float = None
    new: bool = False


def parse_form(text) -> list:
    """``"intro:4 verse:8 chorus:8:new verse:8:vary=0.5"`` as Sections (options: ``new``, ``repeat`` (variation
    0) and ``vary=X``); a one-line SeqgenError when malformed."""
    sections = []
    for item in str(text or "").split():
        name, _, rest = item.partition(":")
        length, _, option = rest.partition(":")
        if not _NAME.fullmatch(name):
            raise SeqgenError(
                f"--form section {item!r} needs a name of letters, digits, '_' or '-' first; {_FORM_HINT}"
            )
        if not length:
            raise SeqgenError(f"--form section {item!r} has no length in bars; write {name}:8 for 8 bars")
        if not length.isdigit() or int(length) < 1:
            raise SeqgenError(
                f"--form section {item!r} must last a whole number of bars, at least 1; write e.g. {name}:8"
            )
        section = Section(name, int(length))
        if option == "new":
            section = attrs.evolve(section, new=True)
        elif option == "repeat":
            section = attrs.evolve(section, variation=0.0)
        elif option.startswith("vary="):
            section = attrs.evolve(section, variation=check_amount(option[5:], f"--form section {item!r}: vary"))
        elif option:
            raise SeqgenError(
                f"--form section {item!r} has unknown option {option!r}; the options are new, repeat "
                f"and vary=0..1, e.g. {name}:{length}:vary=0.3"
            )
        sections.append(section)
    return check_form(sections)


def check_form(sections) -> list:
    """``sections`` (Sections or ``(name, bars)`` pairs) as Sections, refused in one line when empty, when a
    section lasts no bar, or when they hold more than :data:`MAX_BARS` in all."""
    sections = [section if isinstance(section, Section) else Section(*section) for section in sections or ()]
    if not sections:
        raise SeqgenError(f"--form is empty; {_FORM_HINT}")
    for section in sections:
        if (
            not _NAME.fullmatch(str(section.name))
            or isinstance(section.bars, bool)
            or not isinstance(section.bars, (int, np.integer))
            or section.bars < 1
        ):
            raise SeqgenError(
                f"--form section {section.name}:{section.bars} needs a name and a whole number of "
                f"bars, at least 1; {_FORM_HINT}"
            )
    total = sum(section.bars for section in sections)
    if total > MAX_BARS:
        raise SeqgenError(f"--form has {total} bars in all, more than {MAX_BARS}; make it shorter")
    return sections


def check_amount(value, what: str) -> float:
    """``value`` as a number from 0 to 1, or a one-line SeqgenError naming ``what``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not 0 <= number <= 1:
        raise SeqgenError(f"{what} must be a number from 0 to 1, got {value!r}")
    return number


def with_controls(sections, controls) -> list:
    """``sections`` with ``controls`` ({section name: {control: value}}) added to each section of that name; a
    name not in the form is refused in one line."""
    names = list(dict.fromkeys(section.name for section in sections))
    for name in controls or {}:
        if name not in names:
            raise SeqgenError(
                f"--control names section {name!r}, which is not in the form; its sections are {', '.join(names)}"
            )
    return [attrs.evolve(s, controls={**s.controls, **(controls or {}).get(s.name, {})}) for s in sections]
