"""seqgen's version and distribution name, in a module that imports nothing (the core imports them from here;
``seqgen.__version__`` is the same)."""

__version__ = "0.2.0"
#: The name of seqgen's distribution on the Python Package Index (``pip install seqgen-music``); the
#: package it installs is still imported as ``seqgen`` and runs as the ``seqgen`` command.
DISTRIBUTION = "seqgen-music"
