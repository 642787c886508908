"""The step grid the studio draws and edits: one row per sound, one column per step.

A config has a grid when its plugin's tracks declare one: ``Tracks.grid_rows(config)`` gives the rows as
``[(label, pitches)]`` (the first pitch is the one written). Other configs have no grid: the page shows
their primers and results as text.
"""

from seqgen.errors import SeqgenError


def rows(config) -> list:
    """``[(label, pitches)]`` of the config's grid, bottom row first; empty when it has none."""
    return [(str(label), tuple(pitches)) for label, pitches in config.tracks.grid_rows(config)]


def events_to_cells(events, grid_rows) -> list:
    """Per step, the sorted indices of the rows sounding (a row sounds when any of its pitches does)."""
    return [[r for r, (_, pitches) in enumerate(grid_rows) if not set(pitches).isdisjoint(event)] for event in events]


def cells_to_events(cells, grid_rows) -> list:
    """Events from per-step row indices, each row written as its first pitch; SeqgenError when malformed."""
    if not isinstance(cells, list) or not cells:
        raise SeqgenError("primer cells must be a non-empty list of steps, each a list of row numbers")
    events = []
    for step, cell in enumerate(cells):
        if not isinstance(cell, list) or not all(
            isinstance(r, int) and not isinstance(r, bool) and 0 <= r < len(grid_rows) for r in cell
        ):
            raise SeqgenError(
                f"primer step {step} must be a list of row numbers from 0 to {len(grid_rows) - 1}, got {str(cell)[:40]}"
            )
        events.append(frozenset(grid_rows[r][1][0] for r in cell))
    return events
