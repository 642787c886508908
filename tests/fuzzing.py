"""What the property-based tests of readers (tests/test_readers_fuzz.py, plugins/drums/tests/test_drums_readers_fuzz.py)
share: hypothesis settings, a per-example time limit, damaged bytes of real files, and a scratch folder."""

import functools
import os
import tempfile
import time

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from groove_slice import FUNK, WALTZ
from support import GROOVE

FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
#: "Quickly": no single example may take longer (a loaded test machine included); checked by ``quick``.
SECONDS = 20


def quick(test):
    """Fail an example that takes more than SECONDS (hypothesis' own deadline is too tight for busy machines)."""

    @functools.wraps(test)
    def timed(*args, **kwargs):
        started = time.monotonic()
        result = test(*args, **kwargs)
        assert time.monotonic() - started < SECONDS, f"took {time.monotonic() - started:.1f} s"
        return result

    return timed


SCRATCH = tempfile.mkdtemp(prefix="seqgen_fuzz_")


def scratch_file(content: bytes, name: str) -> str:
    path = os.path.join(SCRATCH, name)
    with open(path, "wb") as stream:
        stream.write(content)
    return path


@st.composite
def mutated(draw, base: bytes):
    """``base`` with one to four edits, often near the start where the headers are."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        where = draw(st.one_of(st.integers(0, min(63, len(data) - 1)), st.integers(0, len(data) - 1)))
        kind = draw(st.sampled_from(["flip", "overwrite", "insert", "delete", "truncate"]))
        if kind == "flip":
            data[where] ^= 1 << draw(st.integers(0, 7))
        elif kind == "overwrite":
            chunk = draw(st.binary(min_size=1, max_size=8))
            data[where : where + len(chunk)] = chunk
        elif kind == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=16))
        elif kind == "delete":
            del data[where : where + draw(st.integers(1, 64))]
        else:
            del data[where:]
    return bytes(data)


def damaged(*bases: bytes):
    """Random bytes, a base cut short, a mutated base, or a base with random bytes glued on."""
    base = st.sampled_from(bases)
    return st.one_of(
        st.binary(max_size=300),
        st.tuples(base, st.integers(0, 1 << 20)).map(lambda b: b[0][: b[1] % (len(b[0]) + 1)]),
        base.flatmap(mutated),
        st.tuples(base, st.binary(min_size=1, max_size=64)).map(lambda b: b[0] + b[1]),
    )


#: Two Groove songs: 4/4 funk and a 3/4 waltz.
MIDI_FILES = tuple((GROOVE / name).read_bytes() for name in (FUNK, WALTZ))
