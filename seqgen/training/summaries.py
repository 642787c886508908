"""TensorBoard scalars and the log line of a step's or an eval's metrics."""


def write_summaries(writer, values: dict, step: int) -> None:
    """TensorBoard scalars, written with TensorFlow's own op (TensorBoard need not be installed)."""
    import tensorflow as tf

    metadata = tf.compat.v1.SummaryMetadata(plugin_data=tf.compat.v1.SummaryMetadata.PluginData(plugin_name="scalars"))
    with writer.as_default(step=step):
        for name, value in values.items():
            tf.summary.write(name, tf.constant(value, tf.float32), metadata=metadata)
    writer.flush()


def format_values(values: dict) -> str:
    """``name = value, ...`` with each metric's last name part, four decimals."""
    return ", ".join(f"{name.split('/')[-1]} = {value:.4f}" for name, value in values.items())
