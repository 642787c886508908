"""``seqgen adapt``: a trained model fine-tuned on a user's own MIDI files, within a time budget.

The files are read as ``seqgen convert`` reads them and their tracks extracted with the base model's
config as ``create_dataset`` extracts them (long tracks cut into windows). A fifth of the files that
give tracks (at least one, when at least :data:`MIN_FILES_TO_HOLD_OUT` do) are held out, chosen by a
stable hash of their names. The base's weights stay frozen; low-rank adapters (LoRA) on the weights its
family names (``ModelFamily.adapted_weights``: the transformer's attention and feed-forward kernels) train in
the shared loop's :class:`seqgen.training.Trainer` until the budget is spent, and the adapters that were
best on the held-out files are kept (without held-out files: the last). Ctrl-C keeps the best so far.
The adapted bundle (:func:`seqgen.bundle.save_adapted`) holds only the adapters, the base's name and
the checksum of its weights.
"""

import math
import os
import tempfile
import time

import attrs

from seqgen import bundle, convert, loading, paths, pipeline, tfrecord
from seqgen.errors import SeqgenError
from seqgen.files import signals_held
from seqgen.progress import Progress

#: Files that must give tracks before some are held out for validation.
MIN_FILES_TO_HOLD_OUT = 3
HELD_OUT_SHARE = 0.2
#: The adapters' rank, or less where the adapters would hold more than ADAPTER_SHARE of the base's weights
#: (so an adapted bundle stays under a tenth of its base's size).
MAX_RANK = 8
ADAPTER_SHARE = 0.08
#: Adam's constant learning rate for the adapters, and the most tracks in a batch. On 20 files of one Groove
#: drummer, 2e-4 and 1e-3 overfit within a minute while 5e-5 still gained at the end (docs/models.md).
LEARNING_RATE = 5e-5
MAX_BATCH_SIZE = 8
#: The held-out loss is measured this many times over the budget (and at its end).
EVALUATIONS = 20


@attrs.frozen
class Result:
    """What an adaptation did: losses are held-out losses, or training losses without held-out files."""

    training_files: int
    held_out_files: int
    base_loss: float
    best_loss: float
    best_step: int
    steps: int
    seconds: float
    rank: int
    interrupted: bool = False


def midi_files(sources) -> list:
    """``(folder, relative path)`` of the MIDI files that ``sources`` (files or folders, searched to any depth)
    name; SeqgenError for a source that does not exist or is not a MIDI file."""
    found = []
    for source in map(os.fspath, sources):
        if os.path.isdir(source):
            midi, _, _, _ = convert.find_files(source, recursive=True)
            if not midi:
                raise SeqgenError(f"no MIDI files (.mid, .midi) in {source}; give MIDI files or folders of them")
            found += [(source, relative) for relative in midi]
        elif os.path.isfile(source):
            if not source.lower().endswith(convert.MIDI_SUFFIXES):
                raise SeqgenError(f"{source} is not a MIDI file (.mid, .midi); give MIDI files or folders of them")
            found.append((os.path.dirname(source) or ".", os.path.basename(source)))
        else:
            raise SeqgenError(f"{source} {paths.why_missing(source)}; give MIDI files or folders of them")
    return found


def read_tracks(files, config) -> dict:
    """``{file name: [records]}`` of the MIDI ``files`` that give tracks of ``config`` (long tracks cut into
    windows); SeqgenError saying how many files were read and why none gave a track."""
    import collections

    config = attrs.evolve(config, extraction=attrs.evolve(config.extraction, split_long_tracks=True))
    options = pipeline.SplitOptions(eval_ratio=0.0)
    by_file, counts, unreadable = {}, collections.Counter(sequences_in=0), []
    for folder, relative in files:
        serialized, reason = convert.convert_file(folder, relative)
        if serialized is None:
            unreadable.append(f"{relative}: {reason}")
            continue
        _, records, file_counts = pipeline.process(serialized, config, options)
        counts.update(file_counts)
        if records:
            by_file[os.path.join(folder, relative)] = records
    if not by_file:
        noun = config.tracks.noun
        why = pipeline.explain_empty(counts, config) if counts["sequences_in"] else "none could be read"
        if unreadable:
            why += f"; {len(unreadable)} could not be read (the first, {unreadable[0]})"
        raise SeqgenError(f"none of the {len(files)} MIDI files read gave a {noun} for {config.id}: {why}")
    return by_file


def split_files(names, seed: int = 0) -> tuple:
    """``(training names, held-out names)``: a fifth held out (at least one) when there are at least
    :data:`MIN_FILES_TO_HOLD_OUT`, chosen by a hash of each name; else none held out."""
    if len(names) < MIN_FILES_TO_HOLD_OUT:
        return sorted(names), []
    ordered = sorted(names, key=lambda name: pipeline.hash_fraction(os.path.basename(name), seed))
    count = max(1, round(HELD_OUT_SHARE * len(names)))
    return sorted(ordered[count:]), sorted(ordered[:count])


def choose_rank(weights: dict, names) -> int:
    """The adapters' rank: :data:`MAX_RANK`, or less to keep them within :data:`ADAPTER_SHARE` of ``weights``."""
    per_rank = sum(sum(weights[name].shape) for name in names)
    total = sum(value.size for value in weights.values())
    return max(1, min(MAX_RANK, int(ADAPTER_SHARE * total // per_rank)))


def check_base(model, source) -> tuple:
    """The names of the base model's weights to adapt, or SeqgenError when its family cannot be adapted."""
    family = model.config.family
    if not family.trained_by_gradient:
        raise SeqgenError(
            f"--from {source} is a model of the {family.name} family, whose weights are counted or "
            f"solved, not trained by gradient: seqgen adapt fine-tunes models that seqgen train trains "
            f"in its shared loop"
        )
    names = family.adapted_weights(model.config)
    if not names:
        raise SeqgenError(
            f"--from {source} is a model of the {family.name} family, which names no weights to adapt; "
            f"seqgen adapt fine-tunes e.g. transformer models"
        )
    return names


def base_name(source: str) -> str:
    """How an adapted bundle names its base: a shipped model's name as it is, else the absolute path."""
    return source if source in loading.shipped_models() and not os.path.exists(source) else os.path.abspath(source)


def write_records(folder, name, records) -> str:
    """Write ``records`` to ``folder/name.tfrecord``; its path."""
    path = os.path.join(folder, f"{name}.tfrecord")
    with open(path, "wb") as stream:
        stream.write(tfrecord.encode_records(records))
    return path


def _say(line: str) -> None:
    print(line, flush=True)  # at once, also into a pipe


def adapt(
    sources, base_source, output, minutes: float = 5.0, overwrite: bool = False, seed: int = 0, log=_say
) -> Result:
    """Adapt the model ``base_source`` to the MIDI ``sources`` for ``minutes`` and write ``output``."""
    output = os.fspath(output)
    if not minutes > 0 or not math.isfinite(minutes):
        raise SeqgenError(f"--minutes must be a positive number, got {minutes}")
    paths.check_output_file(output, "--bundle_file")
    if os.path.exists(output) and not overwrite:
        raise SeqgenError(f"{output} already exists; pass --overwrite to replace it, or choose another --bundle_file")
    files = midi_files(sources)  # listed, not read yet
    base = loading.load(base_source)
    base_path = loading.shipped_models().get(base_source, base_source)
    if os.path.exists(output) and os.path.exists(base_path) and os.path.samefile(output, base_path):
        raise SeqgenError(
            f"--bundle_file {output} is the model to adapt (--from); the adapted bundle needs its base: "
            f"choose another --bundle_file"
        )
    names = check_base(base, base_source)
    by_file = read_tracks(files, base.config)
    training_names, held_out_names = split_files(list(by_file), seed)
    if held_out_names:
        log(
            f"Read {len(files)} MIDI files: {len(by_file)} gave tracks; adapting on {len(training_names)} "
            f"({sum(len(by_file[n]) for n in training_names)} tracks), holding out {len(held_out_names)} "
            f"({sum(len(by_file[n]) for n in held_out_names)} tracks) to keep the best."
        )
    else:
        log(
            f"Read {len(files)} MIDI files: {len(by_file)} gave tracks, too few to hold some out for validation "
            f"(it takes {MIN_FILES_TO_HOLD_OUT}); adapting on all of them and reporting the training loss only."
        )
    rank = choose_rank(base.weights, names)
    with tempfile.TemporaryDirectory(prefix="seqgen-adapt-") as folder:
        training_file = write_records(folder, "training", [r for n in training_names for r in by_file[n]])
        held_out_file = write_records(folder, "held_out", [r for n in held_out_names for r in by_file[n]])
        result, adapters = fine_tune(
            base, names, rank, training_file, held_out_file if held_out_names else None, minutes * 60.0, seed, log
        )
    result = attrs.evolve(result, training_files=len(training_names), held_out_files=len(held_out_names))
    description = f"{base.description or base.config.id}, adapted with seqgen adapt on {len(by_file)} MIDI files"
    bundle.save_adapted(
        output, base.config, adapters, base_name(base_source), base.weights, description, replace=overwrite
    )
    kind = "held-out" if held_out_names else "training"
    log(
        f"{'Interrupted: kept' if result.interrupted else 'Kept'} the adapters of step {result.best_step} of "
        f"{result.steps} ({result.seconds:.0f} s, rank {rank}): {kind} loss {result.base_loss:.4f} before, "
        f"{result.best_loss:.4f} after. Wrote {output} ({_size_text(output, base_source)})."
    )
    if result.interrupted:
        raise KeyboardInterrupt
    return result


def _size_text(output, base_source) -> str:
    """The size of the bundle ``output``, and its share of the base's file when the base is one."""
    from seqgen.disk_full import size_text

    size = os.path.getsize(output)
    base_path = loading.shipped_models().get(base_source, base_source)
    if not os.path.isfile(base_path):
        return size_text(size)
    base_size = os.path.getsize(base_path)
    return f"{size_text(size)}, {100 * size / base_size:.1f}% of the base's {size_text(base_size)}"


def fine_tune(base, names, rank, training_file, held_out_file, seconds, seed=0, log=_say) -> tuple:
    """Train adapters of ``rank`` on the weights ``names`` of the model ``base`` on the records of
    ``training_file`` for ``seconds``: ``(Result, {name: (A, B)})`` of the adapters best on ``held_out_file``
    (or the last, without it). Rank 0 trains all the weights instead, and gives ``(Result, weights)``
    (full fine-tuning, the baseline of docs/models.md)."""
    import tensorflow as tf

    from seqgen.families.keras_network import low_rank_adapters
    from seqgen.training import Trainer

    config = base.config
    task = config.family.task
    hparams = attrs.evolve(config.hparams, batch_size=min(config.hparams.batch_size, MAX_BATCH_SIZE))
    config = attrs.evolve(config, hparams=hparams)
    with low_rank_adapters(names if rank else (), rank):
        trainer = Trainer(config, strategy=tf.distribute.get_strategy(), seed=seed, learning_rate=LEARNING_RATE)
    config.family.load_weights(trainer.model, base.weights)

    # Without held-out files, the training files are scored (as held-out files are: no dropout) before and after.
    scored = trainer.distribute(task.dataset(config, [held_out_file or training_file]).cache(), training=False)
    batches = iter(trainer.distribute(task.dataset(config, [training_file]), training=True, seed=seed))
    base_loss = _loss_of(trainer.evaluate(scored))
    best = (base_loss, 0, _snapshot(trainer, rank))
    start = time.monotonic()  # the budget is the training's (the first step included)
    window = {"loss_sum": 0.0, "tokens": 0.0}
    interval, interrupted, shown = seconds / EVALUATIONS, False, 0
    next_check = start + interval
    progress = Progress(max(1, round(seconds)), "adapt", unit="s", interval=None)
    try:
        while time.monotonic() - start < seconds:
            with signals_held():  # Ctrl-C between steps: raised inside TensorFlow's step, it could crash the process
                sums = trainer.train_step(next(batches))
            window = {key: window[key] + sums[key] for key in window}
            now = time.monotonic()
            if now >= next_check or now - start >= seconds:
                next_check = now + interval
                text, best = _score(trainer, scored if held_out_file else None, window, best, base_loss, rank)
                window = {"loss_sum": 0.0, "tokens": 0.0}
                progress.note(text)
                if not progress.showing_bar:
                    log(f"Step {trainer.step} ({now - start:.0f} of {seconds:.0f} s): {text}")
            elapsed = min(round(time.monotonic() - start), progress.total)
            progress.update(elapsed - shown)
            shown = elapsed
    except KeyboardInterrupt:
        interrupted = True
    finally:
        progress.close()
    if not held_out_file:  # the last adapters, scored on the training files
        best = (_loss_of(trainer.evaluate(scored)), trainer.step, _snapshot(trainer, rank))
    loss, best_step, kept = best
    result = Result(0, 0, base_loss, loss, best_step, trainer.step, time.monotonic() - start, rank, interrupted)
    return result, kept


def _snapshot(trainer, rank) -> dict:
    """The adapters as NumPy ``{name: (A, B)}``, or at rank 0 all the weights."""
    if not rank:
        return trainer.config.family.weights(trainer.model)
    return {name: (a.numpy(), b.numpy()) for name, (a, b) in trainer.model.adapters.items()}


def _loss_of(totals: dict) -> float:
    return totals["loss_sum"] / totals["tokens"] if totals["tokens"] else math.nan


def _score(trainer, scored, window: dict, best: tuple, base_loss: float, rank) -> tuple:
    """``(text, best)``: the loss on the ``scored`` held-out batches, ``best`` (loss, step, snapshot) kept
    or replaced by the adapters now; without ``scored``, the training loss over ``window``'s steps."""
    if scored is None:
        return f"training loss {_loss_of(window):.4f} (base {base_loss:.4f})", best
    loss = _loss_of(trainer.evaluate(scored))
    if loss < best[0]:
        best = (loss, trainer.step, _snapshot(trainer, rank))
    return f"held-out loss {loss:.4f} (best {best[0]:.4f}, base {base_loss:.4f})", best
