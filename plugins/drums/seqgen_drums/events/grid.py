"""A PNG picture of a drum track: one row per drum type of the drum kit, one column per step.

Kick is the bottom row, ride the top; bright lines mark bars, dim ones quarter notes. A played hit (a
:class:`seqgen_drums.events.groove.PlayedEvent`, with velocity and timing) is shaded by its velocity (dim when
soft, full color at 127) and carries a white tick at its onset: the middle of the cell is the grid, left
of it early, right of it late (half a step is half a cell). Written with numpy and zlib only, so no
imaging library is needed.
"""

import struct
import zlib

import numpy as np

from seqgen_drums.events.encoding import DRUM_KIT_PITCHES, DrumEncoding

CELL_WIDTH = 8  # pixels per step, grid line included
CELL_HEIGHT = 12  # pixels per drum row, grid line included
LABEL_WIDTH = 36
LABELS = ("KICK", "SNARE", "HH CL", "HH OP", "TOM L", "TOM M", "TOM H", "CRASH", "RIDE")
NUM_ROWS = len(DRUM_KIT_PITCHES)

BACKGROUND = (24, 24, 28)
OFF_BEAT = (40, 40, 46)
ON_BEAT = (52, 52, 60)
BEAT_LINE = (80, 80, 90)
BAR_LINE = (230, 230, 230)
LABEL_COLOR = (200, 200, 200)
TICK_COLOR = (255, 255, 255)
HIT_COLORS = (
    (230, 80, 60),
    (240, 170, 50),
    (90, 200, 230),
    (60, 140, 240),
    (120, 200, 90),
    (90, 170, 70),
    (60, 140, 60),
    (230, 110, 200),
    (180, 120, 240),
)

_GLYPHS = {
    "A": ".###.#...##...#######...##...##...#",
    "C": ".###.#...##....#....#....#...#.###.",
    "D": "####.#...##...##...##...##...#####.",
    "E": "######....#....####.#....#....#####",
    "H": "#...##...##...#######...##...##...#",
    "I": ".###...#....#....#....#....#...###.",
    "K": "#...##..#.#.#..##...#.#..#..#.#...#",
    "L": "#....#....#....#....#....#....#####",
    "M": "#...###.###.#.##.#.##...##...##...#",
    "N": "#...##...###..##.#.##..###...##...#",
    "O": ".###.#...##...##...##...##...#.###.",
    "P": "####.#...##...#####.#....#....#....",
    "R": "####.#...##...#####.#.#..#..#.#...#",
    "S": ".#####....#.....###.....#....#####.",
    "T": "#####..#....#....#....#....#....#..",
    " ": "." * 35,
}


def _glyph(char) -> np.ndarray:
    return np.array([c == "#" for c in _GLYPHS[char]], bool).reshape(7, 5)


def image(events, steps_per_bar: int, steps_per_quarter: int) -> np.ndarray:
    """uint8 RGB array [height, width, 3] of the grid."""
    num_steps = len(events)
    height = NUM_ROWS * CELL_HEIGHT + 1
    width = LABEL_WIDTH + num_steps * CELL_WIDTH + 1
    pixels = np.empty((height, width, 3), np.uint8)
    pixels[:] = BACKGROUND
    grid = pixels[:, LABEL_WIDTH:]
    for step in range(num_steps):
        x = step * CELL_WIDTH
        grid[:, x + 1 : x + CELL_WIDTH] = ON_BEAT if (step // steps_per_quarter) % 2 == 0 else OFF_BEAT
    grid[::CELL_HEIGHT] = BACKGROUND
    kit = DrumEncoding(DRUM_KIT_PITCHES)
    for step, event in enumerate(events):
        played = _played_by_drum(event, kit)
        for drum_type in {kit.drum_type(pitch) for pitch in event} - {None}:
            y = (NUM_ROWS - 1 - drum_type) * CELL_HEIGHT
            x = step * CELL_WIDTH
            if drum_type not in played:
                grid[y + 2 : y + CELL_HEIGHT - 1, x + 2 : x + CELL_WIDTH - 1] = HIT_COLORS[drum_type]
                continue
            velocity, offset = played[drum_type]
            shade = 0.25 + 0.75 * velocity / 127.0
            color = [round(c * shade) for c in HIT_COLORS[drum_type]]
            grid[y + 2 : y + CELL_HEIGHT - 1, x + 2 : x + CELL_WIDTH - 1] = color
            tick = x + CELL_WIDTH // 2 + int(round(offset * CELL_WIDTH))
            grid[y + 1 : y + CELL_HEIGHT, min(max(tick, x + 1), x + CELL_WIDTH - 1)] = TICK_COLOR
    for step in range(num_steps + 1):
        if step % steps_per_bar == 0 or step == num_steps:
            grid[:, step * CELL_WIDTH] = BAR_LINE
        elif step % steps_per_quarter == 0:
            grid[:, step * CELL_WIDTH] = BEAT_LINE
    for drum_type, label in enumerate(LABELS):
        y = (NUM_ROWS - 1 - drum_type) * CELL_HEIGHT + 3
        for i, char in enumerate(label):
            x = 2 + i * 6
            pixels[y : y + 7, x : x + 5][_glyph(char)] = LABEL_COLOR
    return pixels


def _played_by_drum(event, kit) -> dict:
    """``{drum type: (velocity, offset)}`` of a played event's loudest note per drum; {} for a plain event."""
    notes = getattr(event, "notes", None) or {}
    found = {}
    for pitch, (velocity, offset) in notes.items():
        drum_type = kit.drum_type(pitch)
        if drum_type is not None and (drum_type not in found or velocity > found[drum_type][0]):
            found[drum_type] = (velocity, offset)
    return found


def png_bytes(pixels: np.ndarray) -> bytes:
    """An 8-bit RGB PNG of a uint8 array [height, width, 3]."""
    height, width, _ = pixels.shape

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = np.concatenate([np.zeros((height, 1), np.uint8), pixels.reshape(height, width * 3)], axis=1)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 9))
        + chunk(b"IEND", b"")
    )


def write_png(events, path, steps_per_bar: int, steps_per_quarter: int) -> None:
    with open(path, "wb") as file:
        file.write(png_bytes(image(events, steps_per_bar, steps_per_quarter)))
