"""TFRecord files without TensorFlow: framing, checked with masked CRC-32C (:mod:`seqgen.crc32c`).

A record is ``uint64 length | uint32 masked_crc(length) | data | uint32 masked_crc(data)``, all
little-endian. The CRCs of a whole batch of records are computed at once.
"""

import contextlib
import os
import struct

import numpy as np

from seqgen.crc32c import masked_crc32c_batch
from seqgen.errors import SeqgenError
from seqgen.files import atomic_path


def encode_records(records) -> bytes:
    """The TFRecord file content holding ``records`` (a list of byte strings)."""
    records = list(records)
    headers = [struct.pack("<Q", len(r)) for r in records]
    crcs = masked_crc32c_batch(headers + records)
    header_crcs, data_crcs = crcs[: len(records)], crcs[len(records) :]
    parts = []
    for header, header_crc, record, data_crc in zip(headers, header_crcs, records, data_crcs):
        parts += [header, struct.pack("<I", header_crc), record, struct.pack("<I", data_crc)]
    return b"".join(parts)


class RecordWriter:
    """Writes a TFRecord file in batches; the file appears under its name only when complete."""

    def __init__(self, path):
        self.path = str(path)
        self._files = contextlib.ExitStack()
        self._stream = self._files.enter_context(open(self._files.enter_context(atomic_path(self.path)), "wb"))
        self.count = 0

    def write_many(self, records) -> None:
        records = list(records)
        self._stream.write(encode_records(records))
        self.count += len(records)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return self._files.__exit__(*exc_info)


def write_records(path, records) -> None:
    """Write ``records`` to a TFRecord file (uncompressed)."""
    with RecordWriter(path) as writer:
        writer.write_many(records)


_HINT = "give a TFRecord file written by seqgen or Magenta"


def _not_a_record_file(name, number, why, hint=_HINT) -> SeqgenError:
    return SeqgenError(f"{name} is not a TFRecord file or is truncated (record {number} {why}); {hint}")


def decode_records(content: bytes, name="data", verify=True) -> list:
    """The records of TFRecord file ``content``; SeqgenError naming ``name`` when it is not one.

    Every length field is checked against the bytes that remain before anything is taken.
    """
    records, headers, stored = [], [], []
    view = memoryview(content)
    offset = 0
    while offset < len(content):
        if offset + 12 > len(content):
            raise _not_a_record_file(name, len(records) + 1, "has a header cut short")
        length, header_crc = struct.unpack_from("<QI", content, offset)
        end = offset + 12 + length
        if end + 4 > len(content):
            raise _not_a_record_file(name, len(records) + 1, "ends past the end of the file")
        headers.append(content[offset : offset + 8])
        records.append(bytes(view[offset + 12 : end]))
        stored += [header_crc, struct.unpack_from("<I", content, end)[0]]
        offset = end + 4
    if verify and records:
        computed = masked_crc32c_batch(headers + records)
        computed = np.stack([computed[: len(records)], computed[len(records) :]], 1).ravel()
        bad = np.flatnonzero(computed != np.asarray(stored, np.uint32))
        if len(bad):
            raise SeqgenError(
                f"{name} is not a TFRecord file or is corrupt (checksum of record "
                f"{bad[0] // 2 + 1} does not match); {_HINT}"
            )
    return records


def _open(path):
    from seqgen import paths

    paths.check_input_file(path, None, "TFRecord file")
    try:
        return open(path, "rb")
    except OSError as error:
        raise SeqgenError(f"cannot read {path}: {error.strerror}") from None


def read_records(path, verify=True) -> list:
    """The records of a TFRecord file (uncompressed), checksums verified."""
    with _open(path) as stream:
        try:
            content = stream.read()
        except OSError as error:
            raise SeqgenError(f"cannot read {path}: {error.strerror}") from None
    return decode_records(content, str(path), verify)


def _check_header_crcs(path, headers, stored, first_number, hint) -> None:
    bad = np.flatnonzero(masked_crc32c_batch(headers) != np.asarray(stored, np.uint32))
    if len(bad):
        raise _not_a_record_file(path, first_number + int(bad[0]), "has a bad length checksum", hint)


def scan(path, limit=None, hint=_HINT) -> list:
    """``(offset, length)`` of each record of a TFRecord file (of the first ``limit``), reading only the
    12-byte headers: every record must end inside the file and every length's checksum must match, so a
    file of another kind, a truncated file or a forged length is refused before any record is read."""
    found, headers, stored = [], [], []
    with _open(path) as stream:
        size = os.fstat(stream.fileno()).st_size
        offset = 0
        while offset < size and (limit is None or len(found) < limit):
            stream.seek(offset)
            header = stream.read(12)
            if len(header) < 12:
                raise _not_a_record_file(path, len(found) + 1, "has a header cut short", hint)
            length, header_crc = struct.unpack("<QI", header)
            if offset + 16 + length > size:
                _check_header_crcs(
                    path, headers + [header[:8]], stored + [header_crc], len(found) - len(headers) + 1, hint
                )
                raise _not_a_record_file(path, len(found) + 1, "ends past the end of the file", hint)
            found.append((offset + 12, length))
            headers.append(header[:8])
            stored.append(header_crc)
            if len(headers) == 65536:
                _check_header_crcs(path, headers, stored, len(found) - len(headers) + 1, hint)
                headers, stored = [], []
            offset += 16 + length
    if headers:
        _check_header_crcs(path, headers, stored, len(found) - len(headers) + 1, hint)
    return found


def first_record(path, hint=_HINT):
    """The first record of a TFRecord file (data checksum verified), or None for a file without records."""
    found = scan(path, limit=1, hint=hint)
    if not found:
        return None
    offset, length = found[0]
    with _open(path) as stream:
        stream.seek(offset)
        data = stream.read(length + 4)
    if int(masked_crc32c_batch([data[:length]])[0]) != struct.unpack("<I", data[length:])[0]:
        raise SeqgenError(f"{path} is not a TFRecord file or is corrupt (checksum of record 1 does not match); {hint}")
    return data[:length]


def check_file(path, hint=_HINT, batch_bytes=16 << 20) -> int:
    """The number of records of a TFRecord file, after checking its framing (:func:`scan`) and every
    record's checksum, reading at most about ``batch_bytes`` of records at a time."""
    found = scan(path, hint=hint)
    with _open(path) as stream:
        start = 0
        while start < len(found):
            end, size = start, 0
            while end < len(found) and (end == start or size + found[end][1] <= batch_bytes):
                size += found[end][1]
                end += 1
            chunks, stored = [], []
            for offset, length in found[start:end]:
                stream.seek(offset)
                data = stream.read(length + 4)
                chunks.append(data[:length])
                stored.append(struct.unpack("<I", data[length:])[0])
            bad = np.flatnonzero(masked_crc32c_batch(chunks) != np.asarray(stored, np.uint32))
            if len(bad):
                raise SeqgenError(
                    f"{path} is corrupt (checksum of record {start + int(bad[0]) + 1} does not match); {hint}"
                )
            start = end
    return len(found)
