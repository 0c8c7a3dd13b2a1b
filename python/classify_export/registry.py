"""Adding an artifact to a classify registry directory (manifest.json, classify/manifest v1).

The rules are the ones the Go side enforces when it opens a registry
(registry.go): unique names, a known kind, a plain relative file path,
lowercase hex sha256 (and meta_sha256 for xgboost and lightgbm), unique feature and class
names, created in RFC 3339 UTC.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path, PurePosixPath

from . import jsonio
from .errors import ExportError

MANIFEST = "manifest.json"
FORMAT = "classify/manifest"
FORMAT_VERSION = 1
KINDS = ("heuristic", "decision_tree", "random_forest", "xgboost", "lightgbm", "hist_gradient_boosting",
         "gradient_boosting")
# kinds whose artifact has a <file>.meta.json sidecar, listed as meta_sha256
SIDECAR_KINDS = ("xgboost", "lightgbm")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def created_time(flag=None, environ=None) -> str:
    """The entry's created time: the flag (RFC 3339), else SOURCE_DATE_EPOCH, else now; UTC, seconds."""
    environ = os.environ if environ is None else environ
    if flag:
        if not _RFC3339.match(flag):
            raise ExportError(f"--created {flag!r} is not an RFC 3339 time such as 2026-11-30T10:00:00Z")
        try:
            t = dt.datetime.fromisoformat(flag.replace("Z", "+00:00"))
        except ValueError:
            raise ExportError(f"--created {flag!r} is not a valid time") from None
    elif environ.get("SOURCE_DATE_EPOCH"):
        try:
            t = dt.datetime.fromtimestamp(int(environ["SOURCE_DATE_EPOCH"]), dt.timezone.utc)
        except (ValueError, OverflowError, OSError):
            raise ExportError(f"SOURCE_DATE_EPOCH={environ['SOURCE_DATE_EPOCH']!r} is not a number of seconds") from None
    else:
        t = dt.datetime.now(dt.timezone.utc)
    t = t.astimezone(dt.timezone.utc).replace(microsecond=0)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_metric(text):
    """A metric from 'name=accuracy,method=holdout,value=0.95[,std=0.01][,source=FILE]'."""
    fields = {}
    for part in text.split(","):
        if "=" not in part:
            raise ExportError(f"--metric {text!r}: {part!r} is not key=value")
        k, v = part.split("=", 1)
        fields[k.strip()] = v.strip()
    unknown = set(fields) - {"name", "method", "value", "std", "source"}
    if unknown:
        raise ExportError(f"--metric {text!r}: unknown keys {sorted(unknown)} (name, method, value, std, source)")
    for k in ("name", "method", "value"):
        if not fields.get(k):
            raise ExportError(f"--metric {text!r}: {k}= is required")
    m = {"name": fields["name"], "method": fields["method"], "value": _number(text, fields["value"])}
    if "std" in fields:
        m["std"] = _number(text, fields["std"])
    m["source"] = fields.get("source", "")
    return m


def _number(text, s):
    try:
        v = float(s)
    except ValueError:
        raise ExportError(f"--metric {text!r}: {s!r} is not a number") from None
    if v != v or v in (float("inf"), float("-inf")):
        raise ExportError(f"--metric {text!r}: {s!r} is not finite")
    return v


def validate_entry(e, where="entry"):
    name = e.get("name")
    if not isinstance(name, str) or not name:
        raise ExportError(f"{where}: no name")
    if e.get("kind") not in KINDS:
        raise ExportError(f"{where} {name!r}: kind {e.get('kind')!r} is not one of {list(KINDS)}")
    f = e.get("file")
    p = PurePosixPath(f) if isinstance(f, str) else None
    if p is None or not f or f.startswith("/") or "\\" in f or str(p) != f or any(s in ("..", ".") for s in p.parts):
        raise ExportError(f"{where} {name!r}: file {f!r} is not a plain relative path")
    if not _HEX64.match(str(e.get("sha256", ""))):
        raise ExportError(f"{where} {name!r}: sha256 is not 64 lowercase hex digits")
    if e["kind"] in SIDECAR_KINDS and not _HEX64.match(str(e.get("meta_sha256", ""))):
        raise ExportError(f"{where} {name!r}: meta_sha256 is not 64 lowercase hex digits")
    for what in ("features", "classes"):
        names = e.get(what)
        if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
            raise ExportError(f"{where} {name!r}: {what} must be a non-empty list of non-empty strings")
        if len(set(names)) != len(names):
            raise ExportError(f"{where} {name!r}: {what} are not unique")


def read_manifest(directory: Path):
    path = directory / MANIFEST
    if not path.exists():
        return {"format": FORMAT, "format_version": FORMAT_VERSION, "models": []}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise ExportError(f"{path}: cannot read the manifest: {e}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or doc.get("format_version") != FORMAT_VERSION \
            or not isinstance(doc.get("models"), list):
        raise ExportError(f"{path}: not a {FORMAT} v{FORMAT_VERSION} manifest")
    return doc


def plan(directory, files, entry):
    """The manifest document with entry added or replaced; ExportError before anything is written.

    Other entries are kept in their order; a new name goes last.
    """
    directory = Path(directory)
    validate_entry(entry)
    doc = read_manifest(directory)
    models = list(doc["models"])
    names = [m.get("name") for m in models]
    if entry["name"] in names:
        models[names.index(entry["name"])] = entry
    else:
        models.append(entry)
    for m in models:
        if m is not entry and m.get("file") in files:
            raise ExportError(f"{directory / MANIFEST}: model {m.get('name')!r} already uses file {m.get('file')!r}")
    doc["models"] = models
    return doc


def write(directory, files, doc):
    """Copy files (name -> bytes) into directory, then write its manifest; returns the manifest path."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            write_atomic(directory / name, data)
        write_atomic(directory / MANIFEST, jsonio.dumps_indented(doc).encode())
    except OSError as e:
        raise ExportError(f"{directory}: cannot write the registry: {e.strerror or e}") from None
    return directory / MANIFEST


def add(directory, files, entry):
    """Copy files (name -> bytes) into directory and add or replace entry in its manifest."""
    return write(directory, files, plan(directory, files, entry))


def write_atomic(path: Path, data: bytes):
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


