"""CRC-32C (seqgen.crc32c), which TFRecord files and a V1 checkpoint's index are checked with: known values,
the bitwise definition, and a batch of strings of every length at once."""

from hypothesis import given, settings
from hypothesis import strategies as st

from seqgen.crc32c import crc32c, crc32c_batch


def crc32c_bitwise(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def test_crc32c_known_values():
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(b"") == 0
    assert crc32c(bytes(32)) == 0x8A9136AA  # RFC 3720 B.4
    assert crc32c(b"\xff" * 32) == 0x62A8AB43


@settings(max_examples=25, deadline=None)
@given(st.binary(min_size=0, max_size=40000))
def test_crc32c_matches_the_bitwise_definition(data):
    assert crc32c(data) == crc32c_bitwise(data)


@settings(max_examples=10, deadline=None)
@given(st.lists(st.binary(min_size=0, max_size=300), min_size=1, max_size=20))
def test_a_batch_is_each_string_on_its_own(chunks):
    assert crc32c_batch(chunks).tolist() == [crc32c_bitwise(chunk) for chunk in chunks]
