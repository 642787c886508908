"""Everything a plugin author imports, in one place: the hook marker, the contracts a plugin implements and the
parts it builds them from. (The registry that finds and checks plugins is :mod:`seqgen.plugins`.)

    from seqgen.plugin import Config, Encoding, ModelFamily, Tracks, hookimpl   # and the others below

Each name is the class or function of the module it comes from, documented there (docs/reference).
"""

from seqgen.commands import Command, add_config_arguments, add_model_arguments, config_from_args, record_files
from seqgen.config import Config, Extraction
from seqgen.controls import Control
from seqgen.encoding import Encoding
from seqgen.errors import SeqgenError
from seqgen.family import ModelFamily, PrefixStepper, Stepper
from seqgen.hookspecs import hookimpl
from seqgen.hparams import HParams, architecture, non_negative, positive, probability
from seqgen.task import Task
from seqgen.tracks import Arrangement, GenerateOption, MidiPrimer, Note, Tracks, seconds_per_step

__all__ = [
    "Arrangement",
    "Command",
    "Config",
    "Control",
    "Encoding",
    "Extraction",
    "GenerateOption",
    "HParams",
    "MidiPrimer",
    "ModelFamily",
    "Note",
    "PrefixStepper",
    "SeqgenError",
    "Stepper",
    "Task",
    "Tracks",
    "add_config_arguments",
    "add_model_arguments",
    "architecture",
    "config_from_args",
    "hookimpl",
    "non_negative",
    "positive",
    "probability",
    "record_files",
    "seconds_per_step",
]
