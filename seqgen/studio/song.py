"""The studio's arrangement lane on the server: a song of the page's sections (``model.song``), and one of its
sections made anew (``model.regenerate_section``), each written as a MIDI file with a marker naming every
section at its first step (the file ``seqgen song`` writes).

A lane is a list of ``{"name", "bars"}`` sections; a name that came before repeats that section (varied by
``variation``); ``controls`` steer the sections by name. A song lasts at most MAX_STEPS steps (the studio's
longest take), in at most MAX_SECTIONS sections, and its work (:func:`_work`) is at most MAX_SONG_WORK, about
what the largest Generate costs. A song runs to its end even when its client goes away (``model.song`` takes no
step callback): these bounds are what limit it.
"""

import os
import re

from starlette.routing import Route

from seqgen.errors import SeqgenError
from seqgen.studio import checks, grid
from seqgen.studio.actions import write_results
from seqgen.studio.sessions import answer

MAX_SECTIONS = 32
MAX_SONG_WORK = 2 * checks.MAX_WORK  # steps the model reads for a song (_work): about the largest Generate's time
SONG_FIELDS = {"model", "sections", "controls", "fills", "variation", "temperature", "seed", "qpm"}
SECTION_FIELDS = SONG_FIELDS - {"variation"} | {"cells", "section"}
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,39}")
#: The command line's words in the core's messages, as the page names them.
_PAGE_WORDS = {
    "--fills yes": "Fills: yes",
    "leave out --fills": "choose Fills: no",
    "--variation": "Variation",
    "--control names": "Controls name",
    "leave out Variation": "set Variation to 0",
}


def _form(body, model) -> list:
    """The request's sections as :class:`seqgen.form.Section` s, checked, within MAX_STEPS steps in all."""
    from seqgen.form import Section

    sections = body.get("sections")
    if not isinstance(sections, list) or not 1 <= len(sections) <= MAX_SECTIONS:
        raise SeqgenError(
            f'sections must be a list of 1 to {MAX_SECTIONS} sections, each {{"name": "verse", '
            f'"bars": 8}}; add a section to the lane'
        )
    bar = 4 * model.config.steps_per_quarter
    form = []
    for number, section in enumerate(sections, 1):
        if not isinstance(section, dict) or set(section) != {"name", "bars"}:
            raise SeqgenError(f'section {number} must be {{"name": "verse", "bars": 8}}, got {checks.shown(section)}')
        name, bars = section["name"], section["bars"]
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise SeqgenError(
                f"section {number}'s name must be a letter then letters, digits, '_' or '-' (at most "
                f"40), got {checks.shown(name)!r}; rename it"
            )
        most = checks.MAX_STEPS // bar
        if not isinstance(bars, int) or isinstance(bars, bool) or not 1 <= bars <= most:
            raise SeqgenError(
                f"section {number} ({name}) must last a whole number of bars from 1 to {most}, got {checks.shown(bars)}"
            )
        form.append(Section(name, bars))
    total = sum(section.bars for section in form)
    if total * bar > checks.MAX_STEPS:
        raise SeqgenError(
            f"the song has {total} bars ({total * bar} steps); the studio makes songs of at most "
            f"{checks.MAX_STEPS // bar} bars ({checks.MAX_STEPS} steps): shorten or remove a section"
        )
    return form


def _work(form, bar: int) -> int:
    """The steps the model reads to make a song of ``form`` at most (its repeats' varied bars aside): every
    section drawn SECTION_CANDIDATES times, and at each seam two gaps drawn CANDIDATES times, each reading a
    window of CONTEXT_BARS bars on either side (seqgen.song)."""
    from seqgen.song import CANDIDATES, CONTEXT_BARS, SECTION_CANDIDATES

    steps = sum(section.bars for section in form) * bar
    return SECTION_CANDIDATES * steps + (len(form) - 1) * 2 * CANDIDATES * min(steps, (2 * CONTEXT_BARS + 1) * bar)


def _controls(body, model, form) -> dict:
    """``{section name: {control: value}}`` of the request, each checked against the model's controls."""
    from seqgen.controls import check_controls

    given = body.get("controls") or {}
    if not isinstance(given, dict) or not all(isinstance(values, dict) for values in given.values()):
        raise SeqgenError('controls must map a section\'s name to its controls, e.g. {"verse": {"density": 14}}')
    names = {section.name for section in form}
    checked = {}
    for name, values in given.items():
        if name not in names:
            raise SeqgenError(
                f"controls name section {name[:40]!r}, which is not in the lane; its sections are "
                f"{', '.join(dict.fromkeys(s.name for s in form))}"
            )
        try:
            checked[name] = check_controls(model.controls, checks.controls_of({"controls": values}))
        except SeqgenError as error:
            raise SeqgenError(f"section {name}: {error}") from None
    return {name: values for name, values in checked.items() if values}


def _fills(body):
    fills = body.get("fills")
    if fills not in (True, False, None):
        raise SeqgenError(f"Fills must be true, false or null (where the model can), got {checks.shown(fills)}")
    return fills


def _in_page_words(error: SeqgenError) -> SeqgenError:
    message = str(error)
    for cli, page in _PAGE_WORDS.items():
        message = message.replace(cli, page)
    return SeqgenError(message)


def _written(songs, folder: str) -> list:
    """``[(stem, result json)]`` of ``songs`` written into ``folder`` with their markers; each result lists
    its sections as ``{name, first (step), bars}``."""
    found = write_results(songs, folder, 0)
    for (_, result), made in zip(found, songs):
        bar = 4 * made.config.steps_per_quarter
        ends = [first for _, first in made.sections[1:]] + [len(made)]
        result["sections"] = [
            {"name": name, "first": first, "bars": (end - first) // bar}
            for (name, first), end in zip(made.sections, ends)
        ]
    return found


def _song(studio, body: dict, folder: str) -> list:
    """A song of the request's lane: ``[(stem, result json)]``."""
    model = studio.worker_model(body["model"])
    form = _form(body, model)
    work = _work(form, 4 * model.config.steps_per_quarter)
    if work > MAX_SONG_WORK:
        raise SeqgenError(
            f"a song of {len(form)} sections and {sum(s.bars for s in form)} bars is {work} steps of "
            f"work, over the studio's limit of {MAX_SONG_WORK} per song; use fewer sections or bars"
        )
    controls = _controls(body, model, form)
    fills = _fills(body)
    variation = checks.number(body, "variation", 0.0, 0.0, 1.0)
    seed = None if body.get("seed") is None else checks.whole(body, "seed", None, 0, 2**63 - 1)
    try:
        temperature = checks.number(body, "temperature", 1.0, *checks.TEMPERATURE)
        songs = model.song(
            form, controls, fills, variation, 1, temperature, seed, checks.number(body, "qpm", 120.0, *checks.QPM)
        )
    except SeqgenError as error:
        raise _in_page_words(error) from None
    return _written(songs, folder)


def _section(studio, body: dict, folder: str) -> list:
    """A song (the request's cells in its lane's sections) with one section made anew: ``[(stem, result json)]``.
    Its work (one section and two seams) is always below MAX_SONG_WORK."""
    from seqgen.model import Song

    model = studio.worker_model(body["model"])
    config, rows = model.config, grid.rows(model.config)
    if not rows:
        raise SeqgenError(f"{config.id} has no grid; regenerate sections of a grid model's song")
    form = _form(body, model)
    controls = _controls(body, model, form)
    fills = _fills(body)
    events = grid.cells_to_events(body.get("cells"), rows)
    bar = 4 * config.steps_per_quarter
    bars = sum(section.bars for section in form)
    if len(events) != bars * bar:
        raise SeqgenError(
            f"the song has {len(events)} steps but its sections {bars} bars ({bars * bar} steps); "
            f"generate the song again"
        )
    number = body.get("section")
    if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= len(form):
        raise SeqgenError(
            f"section must be the number of one of the song's sections, 1 to {len(form)}, got {checks.shown(number)}"
        )
    firsts = [0]
    for section in form[:-1]:
        firsts.append(firsts[-1] + section.bars * bar)
    song = Song(
        events,
        config,
        checks.number(body, "qpm", 120.0, *checks.QPM),
        sections=[(section.name, first) for section, first in zip(form, firsts)],
    )
    seed = None if body.get("seed") is None else checks.whole(body, "seed", None, 0, 2**63 - 1)
    try:
        made = model.regenerate_section(
            song, number, controls, fills, checks.number(body, "temperature", 1.0, *checks.TEMPERATURE), seed
        )
    except SeqgenError as error:
        raise _in_page_words(error) from None
    return _written([made], folder)


async def _made(request, fields: set, make):
    studio = request.app.state.studio
    body = await checks.json_body(request)
    checks.check_fields(body, fields)
    studio.source(body["model"])
    session, token = studio.session(request, create=True)
    found = await studio.run(make, studio, body, session.folder)
    for stem, _ in found:
        studio.keep(session, stem, f"{os.path.splitext(body['model'])[0]}_song_{stem[:6]}")
    return answer({"results": [result for _, result in found]}, token)


async def make_song(request):
    """POST /api/song: a song of the lane's sections."""
    return await _made(request, SONG_FIELDS, _song)


async def regenerate_section(request):
    """POST /api/song/section: the song with one section made anew, the others kept but around its seams."""
    return await _made(request, SECTION_FIELDS, _section)


ROUTES = [
    Route("/api/song", make_song, methods=["POST"]),
    Route("/api/song/section", regenerate_section, methods=["POST"]),
]
