"""The shared training loop of any model family, and the evaluation of each checkpoint it writes.

The loop steps a :class:`~seqgen.training.trainer.Trainer` on batches of the family's task (tracks of
similar length grouped, so little padding is computed), logs and summarizes the metrics every
``summary_frequency`` steps and checkpoints (:mod:`seqgen.training.checkpoints`) by steps or by time.
"""

import math
import os
import time

import attrs

from seqgen.errors import SeqgenError, Terminated
from seqgen.progress import Progress
from seqgen.training import checkpoints
from seqgen.training.devices import cpu_flags, describe_devices, has_gpu, is_chief, precision_notice
from seqgen.training.summaries import format_values, write_summaries
from seqgen.training.trainer import Trainer


@attrs.frozen
class TrainOptions:
    """How long to train and how often to summarize and checkpoint."""

    num_training_steps: int = 0  # 0: until interrupted
    summary_frequency: int = 10
    save_checkpoint_secs: float = 60.0
    save_checkpoint_steps: int = 0  # 0: by time only
    num_checkpoints: int = 10  # 0: keep all
    seed: int = None
    micro_batch_size: int = 0  # sum gradients over slices of this many tracks; 0: automatic
    warm_start: tuple = None  # (source, weights) of a model a new run starts from (checkpoints.warm_start)

    def save_due(self, step: int, last_saved_step: int, last_save: float) -> bool:
        """Whether the checkpoint of ``step`` is due, the last being of ``last_saved_step`` at monotonic
        time ``last_save``."""
        return bool(
            (self.save_checkpoint_steps and step - last_saved_step >= self.save_checkpoint_steps)
            or (self.save_checkpoint_secs and time.monotonic() - last_save >= self.save_checkpoint_secs)
        )


class _Window:
    """The steps and tokens since the last summary, for its steps/sec and tokens/sec."""

    def __init__(self):
        self.totals, self.start, self.steps = None, time.monotonic(), 0

    def add(self, sums: dict) -> None:
        self.totals = sums if self.totals is None else {k: self.totals[k] + sums[k] for k in sums}
        self.steps += 1

    def rates(self) -> str:
        elapsed = time.monotonic() - self.start
        return f"{self.steps / elapsed:.3f} steps/sec, {self.totals['tokens'] / elapsed:.0f} tokens/sec"


def train(config, run_dir, files, options: TrainOptions, log=print) -> Trainer:
    """Train ``config`` on record ``files`` in ``run_dir``, resuming from its latest checkpoint.

    Returns the :class:`Trainer`, whose model holds the final weights.
    """
    import tensorflow as tf

    from seqgen import run_dir as runs

    chief = is_chief()
    if chief:
        runs.save_run(run_dir, config, log)
    train_dir = os.path.join(run_dir, "train")
    trainer = Trainer(config, seed=options.seed, micro_batch_size=options.micro_batch_size)
    manager = checkpoints.checkpoint_manager(trainer.checkpoint, train_dir, chief, options.num_checkpoints)
    _start(trainer, run_dir, options, log)
    batches = iter(trainer.distribute(config.family.task.dataset(config, files), training=True, seed=options.seed))
    writer = tf.summary.create_file_writer(train_dir) if chief else None
    last_saved_step = _steps(trainer, batches, manager, train_dir, writer, options, log)
    if trainer.step != last_saved_step or not manager.latest_checkpoint:
        checkpoints.save(manager, trainer.step, train_dir)
    if not chief:
        tf.io.gfile.rmtree(manager.directory)
    log(f"Training done at step {trainer.step}; checkpoints in {train_dir}.")
    return trainer


def _start(trainer, run_dir, options: TrainOptions, log) -> None:
    """Resume from the run's latest checkpoint, or start anew (warm where ``options`` say); say where and
    in which precision training runs."""
    from seqgen import run_dir as runs

    latest = runs.newest_checkpoint(os.path.join(run_dir, "train"))
    if latest:
        trainer.restore(latest)
        log(f"Resuming from checkpoint {latest} at step {trainer.step}.")
    else:
        log(f"Starting a new run in {run_dir}.")
        if options.warm_start:
            log(checkpoints.warm_start(trainer.model, options.warm_start[1], options.warm_start[0]))
    precision = trainer.config.hparams.precision
    log(describe_devices(trainer.strategy, precision))
    notice = precision_notice(precision, has_gpu(), cpu_flags())
    if notice:
        log(notice)


def _steps(trainer, batches, manager, train_dir, writer, options: TrainOptions, log) -> int:
    """Step until ``options.num_training_steps`` (0: until interrupted), summarizing and checkpointing on
    the way; a checkpoint on Ctrl-C or SIGTERM. The step of the last checkpoint saved."""
    last_save, last_saved_step = time.monotonic(), trainer.step
    window = _Window()
    remaining = max(0, options.num_training_steps - trainer.step) if options.num_training_steps else 0
    progress = Progress(remaining, "train", unit="step", interval=None)  # a bar on a terminal only
    try:
        while not options.num_training_steps or trainer.step < options.num_training_steps:
            sums = trainer.train_step(next(batches))
            _check_finite(sums, trainer, manager)
            progress.update()
            window.add(sums)
            step = trainer.step
            if step % options.summary_frequency == 0:
                rates, values = window.rates(), trainer.config.family.task.summarize(sums)
                if writer is not None:
                    write_summaries(writer, values, step)
                log(f"Step {step}: {format_values(values)} ({rates})")
                window = _Window()
            if options.save_due(step, last_saved_step, last_save):
                checkpoints.save(manager, step, train_dir)
                last_save, last_saved_step = time.monotonic(), step
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM (seqgen.errors.Terminated)
        log(f"{'Stopped by SIGTERM' if isinstance(stop, Terminated) else 'Interrupted'}; saving a checkpoint.")
        checkpoints.save(manager, trainer.step, train_dir)
        raise
    finally:
        progress.close()
    return last_saved_step


def _check_finite(sums: dict, trainer, manager) -> None:
    """Stop in one line when the step's loss is not finite, naming the checkpoint to resume from."""
    if not math.isfinite(sums["loss_sum"]):
        where = f"resume from {manager.latest_checkpoint}" if manager.latest_checkpoint else "start again"
        raise SeqgenError(
            f"training diverged at step {trainer.step}: the loss is {sums['loss_sum']}, and this step was "
            f"not saved; {where} with a lower learning_rate than {trainer.config.hparams.learning_rate:g} "
            f"(--hparams learning_rate=...)"
        )


def evaluate(config, run_dir, files, num_eval_examples=0, timeout_secs=300.0, poll_secs=2.0, log=print) -> int:
    """Evaluate each new checkpoint in ``R/train`` as it appears; summaries go to ``R/eval``.

    Stops after ``timeout_secs`` without a new checkpoint. Returns the number of checkpoints evaluated.
    """
    import tensorflow as tf

    train_dir, eval_dir = os.path.join(run_dir, "train"), os.path.join(run_dir, "eval")
    trainer = Trainer(config, strategy=tf.distribute.get_strategy())
    sequences = config.family.task.dataset(config, files)
    if num_eval_examples:
        sequences = sequences.take(num_eval_examples)
    sequences = sequences.cache()
    batches = trainer.distribute(sequences, training=False)
    writer = tf.summary.create_file_writer(eval_dir)
    evaluated = 0
    for path in tf.train.checkpoints_iterator(train_dir, min_interval_secs=poll_secs, timeout=timeout_secs):
        trainer.checkpoint.restore(path).expect_partial()
        totals = trainer.evaluate(batches)
        if not totals["tokens"]:
            raise SeqgenError(f"the eval records {files} hold no track of two or more steps")
        values = config.family.task.summarize(totals)
        write_summaries(writer, values, trainer.step)
        log(
            f"Eval of {os.path.basename(path)} at step {trainer.step} on {int(totals['tokens'])} labels: "
            f"{format_values(values)}"
        )
        evaluated += 1
    log(f"No new checkpoint in {train_dir} for {timeout_secs:g} seconds; eval stops.")
    return evaluated
