"""The hooks a seqgen plugin may implement.

A plugin is a module (or object) registered under the ``seqgen`` entry-point group whose functions
carry ``@seqgen.hookimpl``. Each ``register_*`` hook receives a ``register`` callback.
"""

import pluggy

hookspec = pluggy.HookspecMarker("seqgen")
hookimpl = pluggy.HookimplMarker("seqgen")


@hookspec
def register_configs(register):
    """Register model configurations: call ``register(config)`` once per :class:`seqgen.config.Config`."""
