"""Generator: extends a primer into new event sequences."""

import abc


class Generator(abc.ABC):
    """Samples continuations of a primer from a trained model."""

    def __init__(self, config):
        self.config = config

    @abc.abstractmethod
    def generate(self, primer, num_steps: int, num_outputs: int = 1, temperature: float = 1.0,
                 beam_size: int = 1, branch_factor: int = 1, steps_per_iteration: int = 1,
                 seed=None, on_step=None) -> list:
        """``num_outputs`` event lists of exactly ``num_steps`` events, each starting with ``primer``.

        ``on_step()``, when given, is called after each generated step (for progress bars).
        """
