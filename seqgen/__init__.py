"""seqgen: train and sample sequence models of symbolic music.

``seqgen.load(name_or_path)`` returns a trained :class:`seqgen.model.Model` (see docs/api.md).
"""

from seqgen.version import DISTRIBUTION, __version__

__all__ = ["DISTRIBUTION", "__version__", "load"]


def load(source):
    """A trained model from a shipped model's name, a bundle, a ``.mag``, a run dir or a checkpoint."""
    from seqgen.loading import load as _load

    return _load(source)
