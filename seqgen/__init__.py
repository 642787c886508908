"""seqgen: train and sample sequence models of symbolic music."""

__version__ = "0.1.0"
