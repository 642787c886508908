"""The one exception type whose message is shown to the user as is."""


class SeqgenError(Exception):
    """Bad input or a state the user can fix; the CLI prints the message on one line, no traceback."""
