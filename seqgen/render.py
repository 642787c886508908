"""Listening and looking: MIDI files to WAV (from a General MIDI soundfont) and PNG pictures.

The WAV is synthesized by the FluidSynth program where it is installed, else in-process by symusic's
soundfont synthesizer, so rendering needs no system package: the light install's pretty_midi ships a General
MIDI soundfont. Either way it lasts as long as the MIDI file plus a short faded tail for the last hits to ring
out. The picture comes from the config's ``Tracks.draw``; plugins without one get no PNG.
"""

import os
import shutil
import subprocess
import tempfile
import wave

import numpy as np

from seqgen import paths
from seqgen.errors import SeqgenError
from seqgen.files import atomic_path
from seqgen.progress import Progress
from seqgen.tracks import Tracks

INSTALL_HINT = "apt-get install timgm6mb-soundfont"
SOUNDFONTS = (
    "/usr/share/sounds/sf2/TimGM6mb.sf2",
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    "/usr/share/soundfonts/default.sf2",
    "/usr/share/soundfonts/FluidR3_GM.sf2",
)
TAIL_SECONDS = 0.5


def find_fluidsynth():
    """The FluidSynth program's path, or None when it is not installed (soundfonts are then played in-process)."""
    return shutil.which("fluidsynth")


def find_soundfont(path=None) -> str:
    """``path`` when given (it must be a SoundFont file), else the first General MIDI soundfont installed.

    Without FluidSynth only SoundFont 2 files (``sfbk``) can be played; FluidSynth also takes DLS files."""
    if path:
        from seqgen.paths import check_input_file

        check_input_file(path, "--soundfont", "General MIDI .sf2 soundfont")
        try:
            with open(path, "rb") as stream:
                head = stream.read(12)
        except OSError as error:
            raise SeqgenError(f"cannot read --soundfont {path}: {error.strerror}") from None
        kinds = (b"sfbk", b"DLS ") if find_fluidsynth() else (b"sfbk",)
        if head[:4] != b"RIFF" or head[8:12] not in kinds:
            raise SeqgenError(
                f"--soundfont {path} is not a SoundFont file (.sf2); give a General MIDI soundfont, "
                f"e.g. one from: {INSTALL_HINT}"
            )
        return path
    for candidate in SOUNDFONTS + _pretty_midi_soundfont():
        if os.path.isfile(candidate):
            return candidate
    raise SeqgenError(
        f"no General MIDI soundfont found; install one with: {INSTALL_HINT}, or pass --soundfont FILE.sf2"
    )


def _pretty_midi_soundfont() -> tuple:
    """The small General MIDI soundfont pretty_midi (a dependency of the light install) ships, if present."""
    import importlib.util

    spec = importlib.util.find_spec("pretty_midi")
    locations = spec.submodule_search_locations if spec else None
    return tuple(os.path.join(folder, "TimGM6mb.sf2") for folder in locations or ())


def midi_seconds(path) -> float:
    """The length of a MIDI file in seconds (to its last event); SeqgenError when it is not MIDI."""
    import pretty_midi

    try:
        return pretty_midi.PrettyMIDI(str(path)).get_end_time()
    except Exception as error:  # pretty_midi raises many kinds on bad files
        from seqgen.midi_reader import describe_error

        raise SeqgenError(
            f"cannot render {path}: not a valid MIDI file ({describe_error(error)}); give Standard MIDI Files (.mid)"
        ) from None


def render_wav(midi_path, wav_path, soundfont: str, sample_rate: int = 44100) -> None:
    """Synthesize ``midi_path`` into a 16-bit stereo WAV of the MIDI's length plus a faded tail."""
    seconds = midi_seconds(midi_path)
    fluidsynth = find_fluidsynth()
    if fluidsynth:
        audio = _fluidsynth_audio(fluidsynth, midi_path, soundfont, sample_rate)
    else:
        audio = _soundfont_audio(midi_path, soundfont, sample_rate)
    tail = int(TAIL_SECONDS * sample_rate)
    frames = int(round(seconds * sample_rate)) + tail
    audio = np.concatenate([audio[:frames], np.zeros((max(0, frames - len(audio)), 2), np.int16)])
    fade = np.linspace(1.0, 0.0, tail)[:, None]
    audio[-tail:] = (audio[-tail:] * fade).astype(np.int16)
    with atomic_path(wav_path) as path:
        _write_wav(path, audio, sample_rate)


def _fluidsynth_audio(fluidsynth: str, midi_path, soundfont: str, sample_rate: int) -> np.ndarray:
    """``[frames, 2]`` int16 samples of ``midi_path`` played by the FluidSynth program."""
    with tempfile.TemporaryDirectory() as scratch:
        raw = os.path.join(scratch, "out.wav")
        result = subprocess.run(
            [
                fluidsynth,
                "-ni",
                "-q",
                "-F",
                raw,
                "-T",
                "wav",
                "-O",
                "s16",
                "-r",
                str(sample_rate),
                soundfont,
                str(midi_path),
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0 or not os.path.isfile(raw):
            message = (result.stderr or result.stdout).strip().splitlines()
            raise SeqgenError(f"FluidSynth could not render {midi_path}: {message[-1] if message else 'no output'}")
        with wave.open(raw, "rb") as source:
            return np.frombuffer(source.readframes(source.getnframes()), np.int16).reshape(-1, source.getnchannels())


def _soundfont_audio(midi_path, soundfont: str, sample_rate: int) -> np.ndarray:
    """``[frames, 2]`` int16 samples of ``midi_path`` played in-process from ``soundfont`` (symusic)."""
    import symusic

    try:
        score = symusic.Score(str(midi_path))
        played = np.asarray(symusic.Synthesizer(sf_path=soundfont, sample_rate=sample_rate).render(score, stereo=True))
    except Exception as error:  # symusic raises RuntimeError and others on files it cannot read
        raise SeqgenError(f"cannot render {midi_path} with the soundfont {soundfont}: {error}") from None
    return (np.clip(played.T, -1.0, 1.0) * 32767).astype(np.int16)


def _write_wav(path, audio, rate) -> None:
    with wave.open(path, "wb") as target:
        target.setnchannels(audio.shape[1])
        target.setsampwidth(2)
        target.setframerate(rate)
        target.writeframes(audio.tobytes())


def can_draw(config) -> bool:
    return type(config.tracks).draw is not Tracks.draw


def draw_png(midi_path, png_path, config) -> None:
    """A picture of the track in ``midi_path``, drawn by the config's tracks."""
    primer = config.tracks.primer_from_midi(str(midi_path), config)
    with atomic_path(png_path) as path:
        config.tracks.draw(primer.events, config.steps_per_quarter, path, primer.steps_per_bar)


def output_paths(midi_paths, output_dir=None) -> list:
    """``[(midi, wav, png)]``: beside each MIDI file, or in ``output_dir``; clashing names are refused."""
    found, seen = [], {}
    for midi in map(str, midi_paths):
        stem = os.path.splitext(os.path.basename(midi))[0]
        base = os.path.join(output_dir if output_dir else os.path.dirname(midi), stem)
        if base in seen:
            raise SeqgenError(
                f"{seen[base]} and {midi} would both be rendered to {base}.wav; "
                f"rename one or render them into different output folders"
            )
        seen[base] = midi
        found.append((midi, base + ".wav", base + ".png"))
    return found


def render_outputs(
    midi_paths, config, output_dir=None, soundfont=None, sample_rate: int = 44100, overwrite: bool = False, log=print
) -> list:
    """Write a WAV and (when the plugin draws) a PNG for each MIDI file; returns the paths written.

    Files go beside each MIDI file unless ``output_dir`` is given. Existing files are refused unless
    ``overwrite``; every check happens before anything is written.
    """
    soundfont = find_soundfont(soundfont)
    jobs = output_paths(midi_paths, output_dir)
    for midi, wav, png in jobs:
        if os.path.isdir(midi):
            raise SeqgenError(f"{midi} is a directory; give MIDI files to render (e.g. {midi}/*.mid)")
        if not os.path.isfile(midi):
            raise SeqgenError(f"MIDI file {midi} does not exist")
        midi_seconds(midi)
        existing = [path for path in (wav, png) if os.path.exists(path)]
        if existing and not overwrite:
            raise SeqgenError(f"{existing[0]} already exists; pass --overwrite to replace it")
    for folder in sorted({os.path.dirname(wav) or "." for _, wav, _ in jobs}):
        paths.check_output_dir(folder, "--output_dir" if output_dir else "the folder of")
    if output_dir:
        paths.make_dir(output_dir, "--output_dir")
    written = []
    with Progress(len(jobs), "render", unit="file") as progress:
        for midi, wav, png in jobs:
            render_wav(midi, wav, soundfont, sample_rate)
            written.append(wav)
            if can_draw(config):
                try:
                    draw_png(midi, png, config)
                    written.append(png)
                except SeqgenError as error:
                    log(f"no picture of {midi}: {error}")
            progress.update()
    return written
