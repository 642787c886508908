"""seqgen: train and sample sequence models of symbolic music.

``seqgen.load(name_or_path)`` returns a trained :class:`seqgen.model.Model` (see docs/api.md).
"""

__version__ = "0.2.0"
#: The name of seqgen's distribution on the Python Package Index (``pip install seqgen-music``); the
#: package it installs is still imported as ``seqgen`` and runs as the ``seqgen`` command.
DISTRIBUTION = "seqgen-music"


def load(source):
    """A trained model from a shipped model's name, a bundle, a ``.mag``, a run dir or a checkpoint."""
    from seqgen.loading import load as _load

    return _load(source)
