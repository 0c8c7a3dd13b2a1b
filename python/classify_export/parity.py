"""Parity files: classify/golden v2 cases answered by the reference library itself.

Cases are sample rows (the user's CSV, or rows drawn with a seeded generator
within the range of the model's split thresholds), then edge inputs: every
split threshold exactly and the nearest float32 and float64 values below and
above it, NaN in each feature when the model takes missing values, and values
far outside any training range. The answers are the library's own predict and
predict_proba, never recomputed.
"""
from __future__ import annotations

import csv
import json
import math
import random

import numpy as np

from . import jsonio
from .errors import ExportError

FORMAT = "classify/golden"
FORMAT_VERSION = 2
FAR_VALUES = [0.0, 1e6, -1e6, 1e30, -1e30]
DEFAULT_MAX_CASES = 2000
DEFAULT_RANDOM_ROWS = 200
NAN_BASES = 3
F32_MAX = float(np.finfo(np.float32).max)


def f32_neighbours(t):
    """Largest float32 strictly below t and smallest float32 strictly above t (as floats)."""
    f = np.float32(t)
    if float(f) < t:
        below, above = f, np.nextafter(f, np.float32(np.inf))
    elif float(f) > t:
        below, above = np.nextafter(f, np.float32(-np.inf)), f
    else:
        below, above = np.nextafter(f, np.float32(-np.inf)), np.nextafter(f, np.float32(np.inf))
    return float(below), float(above)


def threshold_probes(t):
    b32, a32 = f32_neighbours(t)
    return [("exact", float(t)), ("f32_below", b32), ("f32_above", a32),
            ("f64_below", math.nextafter(t, -math.inf)), ("f64_above", math.nextafter(t, math.inf))]


def feature_ranges(n_features, splits):
    """Per feature (low, high): the split thresholds' range widened by 10%, or (0, 1) if never split on."""
    lo = [math.inf] * n_features
    hi = [-math.inf] * n_features
    for fi, t in splits:
        if not math.isfinite(t) or abs(t) > F32_MAX:
            continue
        lo[fi] = min(lo[fi], t)
        hi[fi] = max(hi[fi], t)
    out = []
    for a, b in zip(lo, hi):
        if a > b:
            out.append((0.0, 1.0))
            continue
        pad = 0.1 * (b - a) if b > a else max(abs(a), 1.0) * 0.1
        out.append((a - pad, b + pad))
    return out


def random_rows(n_rows, ranges, seed):
    """n_rows rows drawn uniformly within ranges, six significant digits, from random.Random(seed)."""
    rng = random.Random(seed)
    return [[float(f"{rng.uniform(a, b):.6g}") for a, b in ranges] for _ in range(n_rows)]


def read_rows(path, features, nan_ok):
    """Rows of a CSV whose header names the model's features (any order); empty cell = missing."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:  # a BOM is not part of the header
            records = list(csv.reader(f))
    except (OSError, UnicodeDecodeError) as e:
        raise ExportError(f"{path}: cannot read rows: {getattr(e, 'strerror', None) or e}") from None
    if not records:
        raise ExportError(f"{path}: empty CSV (need a header naming the features)")
    header = [h.strip() for h in records[0]]
    missing = [f for f in features if f not in header]
    extra = [h for h in header if h not in features]
    if missing or extra or len(set(header)) != len(header):
        raise ExportError(f"{path}: the header must name each feature once: missing {missing}, unknown {extra}")
    col = [header.index(f) for f in features]
    rows = []
    for line, rec in enumerate(records[1:], start=2):
        if not rec:
            continue
        if len(rec) != len(header):
            raise ExportError(f"{path}:{line}: {len(rec)} fields, header has {len(header)}")
        row = []
        for f, c in zip(features, col):
            cell = rec[c].strip()
            if cell == "":
                if not nan_ok:
                    raise ExportError(f"{path}:{line}: {f} is empty (missing), but the model does not accept missing values")
                row.append(math.nan)
                continue
            try:
                v = float(cell)
            except ValueError:
                raise ExportError(f"{path}:{line}: {f}={cell!r} is not a number") from None
            if math.isnan(v) and not nan_ok:
                raise ExportError(f"{path}:{line}: {f} is NaN, but the model does not accept missing values")
            if math.isinf(v) or (not math.isnan(v) and abs(v) > F32_MAX):
                raise ExportError(f"{path}:{line}: {f}={cell} is infinite or too large for float32")
            row.append(v)
        rows.append(row)
    if not rows:
        raise ExportError(f"{path}: no rows below the header")
    return rows


def check_rows(rows, n_features, nan_ok):
    """In-memory sample rows as lists of floats, checked like the CSV's."""
    A = np.asarray(rows, dtype=np.float64)
    if A.ndim != 2 or A.shape[1] != n_features or A.shape[0] == 0:
        raise ExportError(f"rows must be a non-empty table of {n_features} columns (got shape {A.shape})")
    if np.isnan(A).any() and not nan_ok:
        raise ExportError("rows hold NaN, but the model does not accept missing values")
    finite = A[~np.isnan(A)]
    if np.isinf(finite).any() or (np.abs(finite) > F32_MAX).any():
        raise ExportError("rows hold a value that is infinite or too large for float32")
    return [[float(v) for v in r] for r in A]


def _key(x):
    return tuple("nan" if math.isnan(v) else v for v in x)


def _dedupe(cases, seen):
    out = []
    for name, x in cases:
        k = _key(x)
        if k not in seen:
            seen.add(k)
            out.append((name, x))
    return out


def build_cases(features, splits, nan_ok, rows=None, rows_only=False, seed=0,
                max_cases=DEFAULT_MAX_CASES, n_random=DEFAULT_RANDOM_ROWS):
    """The (name, input) list of a parity file, at most max_cases long, deterministic for a seed.

    Budget: far-out and NaN cases first, then the sample rows, then threshold
    probes (whole groups of five, for a seeded sample of thresholds when they do
    not all fit). Names tell what each case probes.
    """
    if max_cases < 1:
        raise ExportError("--max-cases must be at least 1")
    nf = len(features)
    ranges = feature_ranges(nf, splits)
    if rows is not None:
        sample = [(f"rows/{i}", list(r)) for i, r in enumerate(rows)]
    else:
        sample = [(f"random/{i}", r) for i, r in enumerate(random_rows(n_random, ranges, seed))]
    if rows_only:
        return _dedupe(sample, set())[:max_cases]
    bases = [x for _, x in sample if not any(math.isnan(v) for v in x)] or [[(a + b) / 2 for a, b in ranges]]

    far = []
    for v in FAR_VALUES:
        for fi, f in enumerate(features):
            x = list(bases[0])
            x[fi] = v
            far.append((f"edge/far/{f}={v!r}", x))
        far.append((f"edge/far/all={v!r}", [v] * nf))
    nan = []
    if nan_ok:
        for fi, f in enumerate(features):
            for b in range(min(NAN_BASES, len(bases))):
                x = list(bases[b])
                x[fi] = math.nan
                nan.append((f"edge/nan/{f}/base{b}", x))
        nan.append(("edge/nan/all", [math.nan] * nf))

    seen = set()
    far = _dedupe(far, seen)
    nan = _dedupe(nan, seen)
    fixed = (nan + far)[:max_cases]  # the far-out cases go first when even these do not fit
    sample = _dedupe(sample, seen)[: max_cases - len(fixed)]
    room = max_cases - len(fixed) - len(sample)

    rng = random.Random(seed + 1)
    base_of = [rng.randrange(len(bases)) for _ in splits]

    def group(i):
        fi, t = splits[i]
        g = []
        for pname, v in threshold_probes(t):
            if not math.isfinite(v) or abs(v) > F32_MAX:
                continue  # not an input the libraries accept
            x = list(bases[base_of[i]])
            x[fi] = v
            g.append((f"edge/threshold/{features[fi]}={t!r}/{pname}", x))
        return _dedupe(g, seen)

    if len(splits) * len(threshold_probes(0.0)) <= room:
        groups = [group(i) for i in range(len(splits))]
    else:  # a seeded sample of thresholds, each with all its probes, in threshold order
        order = list(range(len(splits)))
        random.Random(seed + 2).shuffle(order)
        kept, used = [], 0
        for i in order:
            if room - used < len(threshold_probes(0.0)):
                break
            g = group(i)
            if used + len(g) <= room:
                kept.append((i, g))
                used += len(g)
        groups = [g for _, g in sorted(kept, key=lambda ig: ig[0])]
    thresholds = [c for g in groups for c in g]
    return sample + thresholds + fixed


def document_text(model, kind, artifact, artifact_sha256, reference, tolerance, features, classes,
                  cases, labels, probas) -> str:
    """The parity file's text: the header indented, then one case per line."""
    head = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": model,
        "kind": kind,
        "artifact": artifact,
        "artifact_sha256": artifact_sha256,
        "reference": reference,
        "tolerance": tolerance,
        "features": list(features),
        "classes": list(classes),
    }
    text = json.dumps(head, indent=2)[:-2]  # leave the object open
    lines = [json.dumps({"name": n, "input": jsonio.nan_to_null(x), "label": lab, "proba": p}, allow_nan=False)
             for (n, x), lab, p in zip(cases, labels, probas)]
    text += ',\n  "cases": [\n    ' + ",\n    ".join(lines) + "\n  ]\n}\n"
    json.loads(text)  # well-formed
    return text
