"""Protocol buffers' wire format from numpy arrays: a model for GLOP without a Python loop.

Filling a `ModelProto` field by field (`.extend(array.tolist())`) turns every number into a
Python object; a weekly model of the simulation (a thousand variables and rows) takes about as
long to fill as GLOP takes to read it. Packed repeated fields are plain bytes: doubles are the
array's own bytes, integers are varints. `packed_ints` keeps its last few encodings, keyed by the
array's bytes: a simulation's weekly models repeat their ids and matrix from week to week.
The solver's answers are read the same way round (`decode_varints`, `length_delimited`): a
vector's values are its packed doubles' bytes, several times quicker than iterating the field.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
import numpy.typing as npt

CACHED = 64  # encodings of integer arrays kept (a few dozen weekly model layouts repeat)
CACHED_SIZE = 100_000  # longer arrays (a city's model) are encoded each time, never kept
_cache: OrderedDict[bytes, bytes] = OrderedDict()
_lock = threading.Lock()  # a dive on a copy of the LP builds its model in another thread


def varint(x: int) -> bytes:
    """One non-negative integer as a varint."""
    if 0 <= x < 0x80:  # a field's key, a short field's length
        return _ONE_BYTE[x]
    out = bytearray()
    while x >= 0x80:
        out.append(x & 0x7F | 0x80)
        x >>= 7
    out.append(x)
    return bytes(out)


_ONE_BYTE = [bytes((x,)) for x in range(0x80)]


def encode_varints(values: np.ndarray) -> bytes:
    """Non-negative integers as consecutive varints (7 bits a byte, low first, the high bit set
    on every byte but a number's last): a numbers x bytes table, of which each number keeps its
    first bytes up to its highest non-zero group."""
    v = np.asarray(values, dtype=np.int64)
    if v.size == 0:
        return b""
    if int(v.min()) < 0:
        raise ValueError("only non-negative integers are encoded")
    top = int(v.max())
    if top < 0x80:  # one byte each (ids of a small model)
        return v.astype(np.uint8).tobytes()
    if v.size <= JOINED_UP_TO and top < 1 << 14:  # a few ids of a weekly LP's update
        return b"".join(map(_two_bytes().__getitem__, v.tolist()))
    k = (top.bit_length() + 6) // 7  # bytes of the largest
    u: npt.NDArray[np.unsignedinteger] = v.astype(np.uint32 if top < 1 << 32 else np.uint64)
    table = np.empty((v.size, k), dtype=np.uint8)
    keep = np.empty((v.size, k), dtype=bool)
    keep[:, 0] = True
    for j in range(k):
        group = u >> (7 * j) if j else u
        if j + 1 < k:
            more = u >= 1 << (7 * (j + 1))  # a byte follows this one
            keep[:, j + 1] = more
            table[:, j] = (group & 0x7F).astype(np.uint8) | (more.view(np.uint8) << 7)
        else:
            table[:, j] = group.astype(np.uint8)
    return table[keep].tobytes()


# up to this many numbers, joining each one's bytes is quicker than the numpy table
JOINED_UP_TO = 128
_TWO_BYTES: list[bytes] = []  # every varint of at most two bytes, made at the first use


def _two_bytes() -> list[bytes]:
    if not _TWO_BYTES:
        with _lock:  # a dive on a copy of the LP may ask at the same moment
            if not _TWO_BYTES:
                table = [varint(x) for x in range(1 << 14)]
                _TWO_BYTES.extend(table)  # in one step: no thread sees half of it
    return _TWO_BYTES


def decode_varints(payload: bytes) -> np.ndarray:
    """Consecutive varints (a packed repeated integer field) as int64: `encode_varints` undone."""
    if len(payload) <= DECODED_IN_PYTHON:
        if not payload or max(payload) < 0x80:  # a byte each (a basis's statuses, small ids)
            return np.frombuffer(payload, dtype=np.uint8).astype(np.int64)
        return np.array(_varints_in_python(payload), dtype=np.int64)
    b = np.frombuffer(payload, dtype=np.uint8)
    last = b < 0x80  # a number's last byte
    if last.all():
        return b.astype(np.int64)
    ends = np.flatnonzero(last)
    if ends.size == 0 or ends[-1] != b.size - 1:
        raise ValueError("the varints end mid-number")
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    length = ends - starts + 1
    if int(length.max()) > 9:  # beyond int64 (protobuf's 10-byte negatives are not read here)
        raise ValueError("a varint longer than 9 bytes")
    value = b[ends].astype(np.int64)  # from the highest group down
    for j in range(1, int(length.max())):
        lower = b.take(np.maximum(ends - j, 0)) & 0x7F  # the j-th byte before each one's last
        value = np.where(length > j, (value << 7) | lower, value)
    return value


DECODED_IN_PYTHON = 128  # bytes: a loop over so few is quicker than numpy's calls


def _varints_in_python(payload: bytes) -> list[int]:
    numbers = []
    x = shift = 0
    for byte in payload:
        x |= (byte & 0x7F) << shift
        if byte < 0x80:
            numbers.append(x)
            x = shift = 0
        else:
            shift += 7
    if shift:
        raise ValueError("the varints end mid-number")
    return numbers


def count_varints(n: int) -> bytes:
    """0, 1, ..., n - 1 as varints (the ids of a whole vector), kept for the next call unless
    n is over `CACHED_SIZE`."""
    payload = _counts.get(n)
    if payload is None:
        payload = encode_varints(np.arange(n))
        if n <= CACHED_SIZE:
            if len(_counts) >= CACHED_COUNTS:
                _counts.clear()
            _counts[n] = payload
    return payload


CACHED_COUNTS = 64  # vector lengths kept: a weekly LP has N + pools x days rows, N of a few dozen
_counts: dict[int, bytes] = {}


def length_delimited(data: bytes) -> dict[int, bytes] | None:
    """A message's length-delimited fields (messages, packed repeated fields) by number, as
    protobuf writes them; None if it holds any other kind of field, or a field twice."""
    fields: dict[int, bytes] = {}
    pos, end = 0, len(data)
    while pos < end:
        key, pos = _read_varint(data, pos)
        length, pos = _read_varint(data, pos)
        number = key >> 3
        if key < 0 or length < 0 or key & 7 != 2 or number in fields or pos + length > end:
            return None
        fields[number] = data[pos : pos + length]
        pos += length
    return fields


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    """The varint at ``pos`` and the position after it."""
    x = shift = 0
    while True:
        if pos >= len(data):
            return -1, pos  # cut short
        byte = data[pos]
        pos += 1
        x |= (byte & 0x7F) << shift
        if byte < 0x80:
            return x, pos
        shift += 7


def field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (a message, or a packed repeated field); nothing when empty,
    as protobuf writes an empty packed field."""
    if not payload:
        return b""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def message(number: int, payload: bytes) -> bytes:
    """A message field, written even when empty (as a message set field by field is)."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def packed_ints(number: int, values: np.ndarray) -> bytes:
    """A packed repeated int64 field of non-negative integers, kept for the next call with the
    same numbers (ids and matrices that repeat) unless long."""
    values = np.asarray(values, dtype=np.int64)
    if values.size > CACHED_SIZE:
        return field(number, encode_varints(values))
    key = number.to_bytes(2, "little") + values.tobytes()
    with _lock:
        payload = _cache.get(key)
        if payload is not None:
            _cache.move_to_end(key)
            return payload
    payload = field(number, encode_varints(values))
    with _lock:
        _cache[key] = payload
        if len(_cache) > CACHED:
            _cache.popitem(last=False)
    return payload


def packed_doubles(number: int, values: np.ndarray) -> bytes:
    """A packed repeated double field: the numbers' own little-endian bytes."""
    return field(number, np.asarray(values, dtype="<f8").tobytes())


def packed_bools(number: int, values: np.ndarray) -> bytes:
    """A packed repeated bool field: a byte each."""
    return field(number, np.asarray(values, dtype=bool).astype(np.uint8).tobytes())
