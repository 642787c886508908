"""seqgen render and generate --render with the drums plugin: a PNG grid of the drums (one row a drum, one column a
step, bar lines), none for a song without drums, and drawn by the light install too."""

import struct
import zlib

import numpy as np
import pretty_midi

from seqgen import cli
from seqgen_drums.events import grid
from support import GROOVE

FUNK = GROOVE / "drummer1" / "eval_session" / "1_funk-groove1_138_beat_4-4.mid"  # 16 bars, 256 steps
WALTZ = GROOVE / "drummer1" / "session2" / "4_jazz_120_beat_3-4.mid"


def read_png(path):
    """(width, height, RGB pixels) of an 8-bit RGB PNG, checking every chunk's CRC."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, {}
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + body)
        chunks[kind] = chunks.get(kind, b"") + body
        position += 12 + length
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, color, interlace) == (8, 2, 0) and b"IEND" in chunks
    rows = np.frombuffer(zlib.decompress(chunks[b"IDAT"]), np.uint8).reshape(height, 1 + width * 3)
    assert not rows[:, 0].any()  # filter type 0 on every row
    return width, height, rows[:, 1:].reshape(height, width, 3)


def cell(pixels, drum_type, step):
    """The colour at the middle of a drum row's cell."""
    y = (grid.NUM_ROWS - 1 - drum_type) * grid.CELL_HEIGHT + grid.CELL_HEIGHT // 2
    x = grid.LABEL_WIDTH + step * grid.CELL_WIDTH + grid.CELL_WIDTH // 2
    return tuple(pixels[y, x])


def test_render_draws_a_grid_of_the_steps_beside_the_wav(tmp_path, capsys, synthesizer):
    """With the default config (drums): the WAV (as tests/test_render.py checks it) and a PNG of each file."""
    assert cli.main(["render", str(FUNK), str(WALTZ), "--output_dir", str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out.split()
    out = tmp_path / "out"
    assert printed == [str(out / f"{m.stem}.{kind}") for m in (FUNK, WALTZ) for kind in ("wav", "png")]
    width, height, pixels = read_png(out / f"{FUNK.stem}.png")
    assert (width, height) == (grid.LABEL_WIDTH + 256 * grid.CELL_WIDTH + 1, 9 * grid.CELL_HEIGHT + 1)
    # The funk groove opens with kick and ride (plus a crash); the snare first sounds at step 4.
    kick, snare, ride = 0, 1, 8
    assert cell(pixels, kick, 0) == grid.HIT_COLORS[kick] and cell(pixels, ride, 0) == grid.HIT_COLORS[ride]
    assert cell(pixels, snare, 0) != grid.HIT_COLORS[snare] and cell(pixels, snare, 4) == grid.HIT_COLORS[snare]
    # Bar lines every 16 steps, 12 in the 3/4 waltz.
    bar_columns = [x for x in range(grid.LABEL_WIDTH, width) if tuple(pixels[1, x]) == grid.BAR_LINE]
    assert bar_columns == [grid.LABEL_WIDTH + step * grid.CELL_WIDTH for step in range(0, 257, 16)]
    width, _, pixels = read_png(out / f"{WALTZ.stem}.png")
    steps = (width - grid.LABEL_WIDTH - 1) // grid.CELL_WIDTH
    bar_columns = [x for x in range(grid.LABEL_WIDTH, width) if tuple(pixels[1, x]) == grid.BAR_LINE]
    assert steps % 12 == 0 and len(bar_columns) == steps // 12 + 1


def test_a_song_without_drums_still_sounds_but_gets_no_grid(tmp_path, capsys, synthesizer):
    song = pretty_midi.PrettyMIDI()
    piano = pretty_midi.Instrument(program=0)
    piano.notes.append(pretty_midi.Note(velocity=90, pitch=60, start=0.0, end=1.0))
    song.instruments.append(piano)
    song.write(str(tmp_path / "piano.mid"))
    assert cli.main(["render", str(tmp_path / "piano.mid"), "--output_dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "no picture of" in out and "drums must be on MIDI channel 10" in out
    assert (tmp_path / "piano.wav").exists() and not (tmp_path / "piano.png").exists()


def test_generate_render_writes_wav_and_png_beside_each_midi(tmp_path, capsys, synthesizer):
    from seqgen import bundle, plugins
    from seqgen.families.events_rnn import inference

    config = plugins.get_config("drum_kit").with_hparams("rnn_layer_sizes=[16],attn_length=0")
    bundle.save(tmp_path / "tiny.seqgen", config, inference.random_weights(config, seed=1))
    out = tmp_path / "generated"
    assert (
        cli.main(
            [
                "generate",
                "--bundle_file",
                str(tmp_path / "tiny.seqgen"),
                "--output_dir",
                str(out),
                "--num_outputs",
                "2",
                "--num_steps",
                "64",
                "--seed",
                "3",
                "--render",
            ]
        )
        == 0
    )
    assert "wrote 2 WAV and 2 PNG files beside them" in capsys.readouterr().out
    midis = sorted(out.glob("*.mid"))
    assert len(midis) == 2
    for midi in midis:  # the WAVs as tests/test_render.py checks them
        assert midi.with_suffix(".wav").is_file()
        width, _, _ = read_png(midi.with_suffix(".png"))
        assert width == grid.LABEL_WIDTH + 64 * grid.CELL_WIDTH + 1  # four bars of 16 steps


def test_the_light_install_draws_the_png_too(tmp_path, synthesizer):
    """Without note-seq (the light install), the picture is drawn from the MIDI file pretty_midi reads."""
    import subprocess
    import sys

    script = (
        "import sys; sys.modules['note_seq'] = None; from seqgen import cli; "
        f"sys.exit(cli.main(['render', {str(FUNK)!r}, '--output_dir', {str(tmp_path)!r}]))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "no picture" not in done.stdout + done.stderr and (tmp_path / f"{FUNK.stem}.wav").is_file()
    width, height, _ = read_png(tmp_path / f"{FUNK.stem}.png")
    assert (width, height) == (grid.LABEL_WIDTH + 256 * grid.CELL_WIDTH + 1, 9 * grid.CELL_HEIGHT + 1)
