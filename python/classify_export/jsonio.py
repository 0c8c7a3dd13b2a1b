"""JSON output that Go reads back bit for bit, and checksums.

Python's json module writes floats with repr, the shortest string that
round-trips a float64, so Go's strconv.ParseFloat reads back the identical
bits. numpy scalars and arrays are converted to Python types first; NaN is
never written as a number (allow_nan=False): callers turn it into null where a
format allows a missing value.
"""
from __future__ import annotations

import hashlib
import json
import math

import numpy as np


def to_jsonable(obj):
    """numpy scalars and arrays to Python types, recursively."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    return obj


def dumps_compact(obj, convert=True) -> str:
    """One line, no spaces (tree arrays make indented files huge), newline-terminated.

    convert=False skips to_jsonable for documents already made of Python types.
    """
    return json.dumps(to_jsonable(obj) if convert else obj, separators=(",", ":"), allow_nan=False) + "\n"


def dumps_indented(obj) -> str:
    return json.dumps(to_jsonable(obj), indent=2, allow_nan=False) + "\n"


def nan_to_null(values):
    """A list of floats with NaN as None (JSON null: a missing value)."""
    return [None if isinstance(v, float) and math.isnan(v) else v for v in values]


def sha256_bytes(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()
