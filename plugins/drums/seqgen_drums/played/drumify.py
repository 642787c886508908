"""Drumify: the shipped drumify model, and its groove to tapped rhythms for pages that take them (the
``rhythm_models`` hook); the ``seqgen drumify`` command is :mod:`seqgen_drums.commands.drumify`."""

import functools

#: The shipped drumify model (``seqgen.load`` knows it by this name).
DEFAULT_MODEL = "drumify_gmd"


def rhythm_models() -> dict:
    """The shipped model, for pages that take tapped rhythms (the ``rhythm_models`` hook); {} when not shipped."""
    from seqgen.loading import shipped_models

    return {DEFAULT_MODEL: drumify_taps} if DEFAULT_MODEL in shipped_models() else {}


def drumify_taps(times, velocities, qpm: float, temperature: float = 1.0, seed=None):
    """The shipped model's groove that follows taps at ``times`` (seconds; 0 is the first downbeat) with
    ``velocities`` (MIDI 1-127; None: 100 each) at ``qpm``: a Track."""
    from seqgen_drums.events.rhythm import rhythm_from_times

    return _shipped_model().drumify(rhythm_from_times(times, qpm, velocities), temperature, seed)


@functools.cache
def _shipped_model():
    import seqgen

    return seqgen.load(DEFAULT_MODEL)
