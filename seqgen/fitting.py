"""``seqgen train`` for model families whose weights are counted or solved, not trained by gradient.

Such a family sets ``ModelFamily.trained_by_gradient = False`` and implements ``initial_weights`` and
``fit`` (see :mod:`seqgen.family`). The run dir is the shared loop's: ``R/run.json``, checkpoints
``R/train/ckpt-N`` holding the weights by name (so ``seqgen.load``, ``generate --run_dir`` and bundles
read them as any run's) and the step, and TensorBoard summaries in ``R/train``. One step gives the family
the next ``hparams.batch_size`` tracks of the records, in record order; ``--num_training_steps 0`` means
one pass over the records. A run started again resumes after the latest checkpoint's step, so counts are
neither lost nor counted twice. ``seqgen train --eval`` scores each new checkpoint with the family's
stepper (NumPy) and writes the metrics to ``R/eval``.
"""

import math
import os
import time

from seqgen.errors import SeqgenError

STEP_KEY = "step/.ATTRIBUTES/VARIABLE_VALUE"


def _checkpoint(variables: dict, step):
    import tensorflow as tf

    return tf.train.Checkpoint(weights=tf.train.Checkpoint(**variables), step=step)


def _read_step(path) -> int:
    import tensorflow as tf

    reader = tf.train.load_checkpoint(path)
    if not reader.has_tensor(STEP_KEY):
        raise SeqgenError(
            f"{path} is not a checkpoint of a fitted model (no step); was it written by the shared "
            f"training loop? Use a new --run_dir"
        )
    return int(reader.get_tensor(STEP_KEY))


class _Saver:
    """The checkpoints of a fit: its weights (by name, checked against the family's shapes) and step."""

    def __init__(self, config, train_dir, num_checkpoints):
        import numpy as np
        import tensorflow as tf

        self.family = config.family
        self.shapes = self.family.variable_shapes(config)
        self.variables = {
            name: tf.Variable(np.zeros(shape, np.float32), name=name.replace("/", "_"))
            for name, shape in self.shapes.items()
        }
        self.step_variable = tf.Variable(0, dtype=tf.int64)
        self.manager = tf.train.CheckpointManager(
            _checkpoint(self.variables, self.step_variable), train_dir, max_to_keep=num_checkpoints or None
        )

    def save(self, weights: dict, step: int) -> None:
        import numpy as np

        for name, variable in self.variables.items():
            value = np.asarray(weights[name], np.float32)
            if value.shape != tuple(self.shapes[name]):
                raise SeqgenError(
                    f"the {self.family.name} family's fit gave {name} the shape {list(value.shape)}; "
                    f"its variable_shapes say {list(self.shapes[name])}"
                )
            variable.assign(value)
        self.step_variable.assign(step)
        self.manager.save(checkpoint_number=step)


def _start(config, run_dir, train_dir, log) -> tuple:
    """``(step, weights)`` of the run's latest checkpoint, or of a new run."""
    import tensorflow as tf

    from seqgen import run_dir as runs

    latest = tf.train.latest_checkpoint(train_dir)
    if latest:
        step = _read_step(latest)
        _, weights = runs.load_weights(run_dir, checkpoint_file=latest)
        log(f"Resuming from checkpoint {latest} at step {step}.")
        return step, weights
    log(f"Starting a new run in {run_dir}.")
    return 0, config.family.initial_weights(config)


def fit(config, run_dir, files, options, log=print) -> int:
    """Fit ``config``'s family on record ``files`` in ``run_dir``, resuming after its latest checkpoint.

    ``options`` is a :class:`seqgen.training.TrainOptions` (its step, summary and checkpoint settings;
    micro batches and seeds do not apply). Returns the step reached.
    """
    import tensorflow as tf

    from seqgen import evaluation
    from seqgen import run_dir as runs
    from seqgen.training.summaries import write_summaries

    runs.save_run(run_dir, config, log)
    train_dir = os.path.join(run_dir, "train")
    tracks = evaluation.read_class_sequences(files, config.encoding.num_classes)
    batch_size = config.hparams.batch_size
    steps_in_pass = math.ceil(len(tracks) / batch_size)
    stop = min(options.num_training_steps, steps_in_pass) if options.num_training_steps else steps_in_pass
    step, weights = _start(config, run_dir, train_dir, log)
    saver = _Saver(config, train_dir, options.num_checkpoints)
    writer = tf.summary.create_file_writer(train_dir)
    last_save, last_saved_step, seen = time.monotonic(), step, 0
    try:
        while step < stop:
            batch = tracks[step * batch_size : (step + 1) * batch_size]
            weights = config.family.fit(config, weights, batch)
            step += 1
            seen += len(batch)
            if step % options.summary_frequency == 0 or step == stop:
                values = {"tracks": float(min(step * batch_size, len(tracks)))}
                write_summaries(writer, values, step)
                log(f"Step {step}: {seen} tracks fitted in this run, {int(values['tracks'])} of {len(tracks)} in all")
            if options.save_due(step, last_saved_step, last_save):
                saver.save(weights, step)
                last_save, last_saved_step = time.monotonic(), step
    except KeyboardInterrupt:
        log("Interrupted; saving a checkpoint.")
        saver.save(weights, step)
        raise
    if step != last_saved_step or not saver.manager.latest_checkpoint:
        saver.save(weights, step)
    log(f"Fitting done at step {step}; checkpoints in {train_dir}.")
    return step


def evaluate(config, run_dir, files, num_eval_examples=0, timeout_secs=300.0, poll_secs=2.0, log=print) -> int:
    """Score each new checkpoint of ``R/train`` on record ``files`` with the family's stepper; summaries go
    to ``R/eval``. Stops after ``timeout_secs`` without a new checkpoint. Returns how many were evaluated."""
    import tensorflow as tf

    from seqgen import evaluation, metrics
    from seqgen import run_dir as runs
    from seqgen.training.summaries import format_values, write_summaries

    train_dir, eval_dir = os.path.join(run_dir, "train"), os.path.join(run_dir, "eval")
    sequences = evaluation.read_class_sequences(files, config.encoding.num_classes)
    if num_eval_examples:
        sequences = sequences[:num_eval_examples]
    writer = tf.summary.create_file_writer(eval_dir)
    evaluated = 0
    for path in tf.train.checkpoints_iterator(train_dir, min_interval_secs=poll_secs, timeout=timeout_secs):
        _, weights = runs.load_weights(run_dir, checkpoint_file=path)
        totals = evaluation.model_sums(config, weights, sequences)
        if not totals["tokens"]:
            raise SeqgenError(f"the eval records {files} hold no track of two or more steps")
        values = metrics.summarize(totals)
        step = _read_step(path)
        write_summaries(writer, values, step)
        log(
            f"Eval of {os.path.basename(path)} at step {step} on {int(totals['tokens'])} labels: "
            f"{format_values(values)}"
        )
        evaluated += 1
    log(f"No new checkpoint in {train_dir} for {timeout_secs:g} seconds; eval stops.")
    return evaluated
