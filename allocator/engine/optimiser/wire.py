"""Protocol buffers' wire format from numpy arrays: a model for GLOP without a Python loop.

Filling a `ModelProto` field by field (`.extend(array.tolist())`) turns every number into a
Python object; a weekly model of the simulation (a thousand variables and rows) takes about as
long to fill as GLOP takes to read it. Packed repeated fields are plain bytes: doubles are the
array's own bytes, integers are varints. `packed_ints` keeps its last few encodings, keyed by the
array's bytes: a simulation's weekly models repeat their ids and matrix from week to week.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

CACHED = 64  # encodings of integer arrays kept (a few dozen weekly model layouts repeat)
CACHED_SIZE = 100_000  # longer arrays (a city's model) are encoded each time, never kept
_cache: OrderedDict[bytes, bytes] = OrderedDict()
_lock = threading.Lock()  # a dive on a copy of the LP builds its model in another thread


def varint(x: int) -> bytes:
    """One non-negative integer as a varint."""
    out = bytearray()
    while x >= 0x80:
        out.append(x & 0x7F | 0x80)
        x >>= 7
    out.append(x)
    return bytes(out)


def encode_varints(values: np.ndarray) -> bytes:
    """Non-negative integers as consecutive varints (7 bits a byte, low first, the high bit set
    on every byte but a number's last)."""
    v = np.asarray(values, dtype=np.int64)
    if v.size and int(v.min()) < 0:
        raise ValueError("only non-negative integers are encoded")
    v = v.astype(np.uint64)
    n = np.ones(v.size, dtype=np.int64)  # bytes per number
    k = 1
    while v.size and k < 10 and bool((v >= np.uint64(1 << (7 * k))).any()):
        n += v >= np.uint64(1 << (7 * k))
        k += 1
    first = np.cumsum(n) - n
    out = np.empty(int(n.sum()), dtype=np.uint8)
    for j in range(k):
        has = n > j
        byte = ((v[has] >> np.uint64(7 * j)) & np.uint64(0x7F)).astype(np.uint8)
        out[first[has] + j] = byte | ((n[has] - 1 > j).astype(np.uint8) << 7)
    return out.tobytes()


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
