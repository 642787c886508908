"""The one exception type whose message is shown to the user as is."""


class SeqgenError(Exception):
    """Bad input or a state the user can fix; the CLI prints the message on one line, no traceback."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (sent by job schedulers, containers, ``timeout``): the CLI raises it so that a command stops as on
    Ctrl-C, finishing what it must (train's checkpoint, removing unfinished files)."""
