"""note_seq without its heavy package ``__init__``.

``import note_seq`` loads librosa, numba, bokeh and pandas, none of which seqgen uses. Importing
``from seqgen.noteseq import note_seq`` instead registers the installed package as a bare namespace
first, so ``note_seq.midi_io``, ``note_seq.sequences_lib`` and ``note_seq.protobuf.music_pb2`` load
on their own, with only pretty_midi, numpy and protobuf behind them.
"""

import importlib
import importlib.util
import sys
import types

from seqgen.errors import SeqgenError
from seqgen.version import DISTRIBUTION


def _bare_package():
    if "note_seq" in sys.modules:
        return sys.modules["note_seq"]
    spec = importlib.util.find_spec("note_seq")
    if spec is None:
        raise SeqgenError(
            "this needs note-seq, which the light install leaves out; install the training "
            f"extra: pip install '{DISTRIBUTION}[train]'"
        )
    package = types.ModuleType("note_seq")
    package.__path__ = list(spec.submodule_search_locations)
    package.__spec__ = spec
    package.__file__ = spec.origin
    sys.modules["note_seq"] = package
    return package


note_seq = _bare_package()
for _name in ("constants", "protobuf.music_pb2", "midi_io", "sequences_lib"):
    importlib.import_module(f"note_seq.{_name}")

music_pb2 = note_seq.protobuf.music_pb2
midi_io = note_seq.midi_io
sequences_lib = note_seq.sequences_lib
