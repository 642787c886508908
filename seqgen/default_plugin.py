"""seqgen's built-in plugin: its model families and commands, registered through the same hooks as any
plugin's (as simonw/llm's default plugins). Nothing here imports TensorFlow."""

from seqgen.hookspecs import hookimpl


@hookimpl
def register_models(register):
    from seqgen.families.events_rnn import EventsRNNFamily
    from seqgen.families.transformer import TransformerFamily

    register(EventsRNNFamily())
    register(TransformerFamily())


@hookimpl
def register_commands(register):
    from seqgen.commands import builtin_commands

    for command in builtin_commands():
        register(command)
