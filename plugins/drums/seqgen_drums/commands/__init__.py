"""The plugin's commands, one module each with a docstring (its help), ``add_arguments`` and ``run``, as the
core's ``seqgen.commands``; :mod:`.kit` is what the file commands (humanize, drumify) share."""
