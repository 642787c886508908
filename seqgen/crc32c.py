"""CRC-32C (Castagnoli), as TFRecord files and LevelDB tables (a V1 checkpoint's index) check their data with, and
its masked form they store: vectorized with NumPy.

The CRCs of a whole batch of byte strings are computed at once: every string is cut into lanes of ``_LANE``
bytes whose CRCs advance together, then the lane CRCs are shifted into place and combined (CRC is linear
over GF(2), so ``crc(A + B) = shift(crc(A), len(B)) ^ crc(B)``).
"""

import numpy as np

_POLY = 0x82F63B78  # CRC-32C (Castagnoli), reflected
_LANE = 64
_MASK_DELTA = 0xA282EAD8


def _byte_table() -> np.ndarray:
    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ np.uint32(_POLY), table >> 1).astype(np.uint32)
    return table


_TABLE = _byte_table()


def _columns_apply(columns, x: int) -> int:
    value = 0
    for bit in range(32):
        if x >> bit & 1:
            value ^= columns[bit]
    return value


def _zero_shift_tables():
    """For k = 0..63, four 256-entry tables applying 'feed 2**k zero bytes' to a CRC state."""
    columns = [int(_TABLE[(1 << i) & 0xFF]) ^ ((1 << i) >> 8) for i in range(32)]  # one zero byte
    tables = []
    for _ in range(64):
        byte_tables = np.zeros((4, 256), np.uint32)
        for j in range(4):
            for i in range(8):
                bit = np.uint32(columns[8 * j + i])
                byte_tables[j] ^= np.where((np.arange(256) >> i) & 1, bit, np.uint32(0)).astype(np.uint32)
        tables.append(byte_tables)
        columns = [_columns_apply(columns, c) for c in columns]  # square: twice as many zero bytes
    return tables


_SHIFT = _zero_shift_tables()


def _shift(states: np.ndarray, k: int) -> np.ndarray:
    """States after feeding 2**k zero bytes."""
    t = _SHIFT[k]
    return t[0][states & 0xFF] ^ t[1][(states >> 8) & 0xFF] ^ t[2][(states >> 16) & 0xFF] ^ t[3][states >> 24]


def crc32c_batch(chunks) -> np.ndarray:
    """CRC-32C of every byte string in ``chunks``, as a uint32 array."""
    lengths = np.fromiter((len(c) for c in chunks), np.int64, len(chunks))
    if not len(chunks):
        return np.zeros(0, np.uint32)
    num_lanes = np.maximum(1, -(-lengths // _LANE))
    padded = num_lanes * _LANE
    ends = np.cumsum(padded)
    buffer = np.zeros(int(ends[-1]), np.uint8)
    for chunk, end in zip(chunks, ends):  # zero bytes in front of a chunk leave its raw CRC unchanged
        buffer[end - len(chunk) : end] = np.frombuffer(chunk, np.uint8)
    lanes = buffer.reshape(-1, _LANE).T.copy()
    state = np.zeros(lanes.shape[1], np.uint32)
    for column in lanes:
        state = _TABLE[(state ^ column) & 0xFF] ^ (state >> 8)
    # Shift each lane by the number of bytes after it in its chunk, then XOR the lanes of a chunk.
    first_lane = np.concatenate([[0], np.cumsum(num_lanes)[:-1]])
    lanes_after = np.repeat(first_lane + num_lanes, num_lanes) - 1 - np.arange(int(num_lanes.sum()))
    k = int(np.log2(_LANE))
    while lanes_after.any():
        odd = (lanes_after & 1).astype(bool)
        state[odd] = _shift(state[odd], k)
        lanes_after >>= 1
        k += 1
    raw = np.bitwise_xor.reduceat(state, first_lane)
    # Standard CRC: initial state 0xFFFFFFFF fed through the chunk's length, and a final inversion.
    init = np.full(len(chunks), 0xFFFFFFFF, np.uint32)
    remaining = lengths.copy()
    k = 0
    while remaining.any():
        odd = (remaining & 1).astype(bool)
        init[odd] = _shift(init[odd], k)
        remaining >>= 1
        k += 1
    return raw ^ init ^ np.uint32(0xFFFFFFFF)


def masked_crc32c_batch(chunks) -> np.ndarray:
    """The masked CRC-32C of every byte string in ``chunks`` (what TFRecord files and LevelDB store)."""
    crc = crc32c_batch(chunks).astype(np.uint64)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA).astype(np.uint32)


def crc32c(data) -> int:
    """The CRC-32C of one bytes-like ``data``."""
    return int(crc32c_batch([bytes(data)])[0])


def masked_crc32c(data) -> int:
    """The masked CRC-32C of one bytes-like ``data``."""
    return int(masked_crc32c_batch([bytes(data)])[0])
