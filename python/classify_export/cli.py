"""classify-export: turn a fitted model file into a classify artifact and a parity file."""
from __future__ import annotations

import argparse
import contextlib
import sys

from . import __version__
from .errors import ExportError
from .export import XGB_FORMATS, export
from .parity import DEFAULT_MAX_CASES
from .registry import parse_metric

DESCRIPTION = """\
Export a fitted classifier to a classify artifact.

MODEL is a joblib or pickle file holding a fitted DecisionTreeClassifier,
RandomForestClassifier, ExtraTreesClassifier, HistGradientBoostingClassifier,
GradientBoostingClassifier, XGBClassifier, XGBRFClassifier, LGBMClassifier or
lightgbm.Booster, or an XGBoost model file (.json, .ubj, legacy binary), or a
LightGBM text model file. Writes into --out:
  trees, forests: NAME.json (classify/sklearn-trees v3)
  HistGradientBoosting: NAME.json (classify/sklearn-hgb v2)
  GradientBoosting:     NAME.json (classify/sklearn-gb v2)
  XGBoost:      the model file (yours unchanged, or NAME.ubj saved from the
                pickled estimator) and FILE.meta.json (classify/xgboost-meta v1)
  LightGBM:     the text model file (yours unchanged, or NAME.txt as
                save_model writes it) and FILE.meta.json (classify/lightgbm-meta v1)
  all:          NAME.parity.json (classify/golden v2: the library's own answers)
"""

EPILOG = """\
exit status: 0 written; 2 a usage error or a problem with the model or names
(the message says which). Unpickling runs code from the file: export only
files you trust.
"""


def _split(text):
    return [s.strip() for s in text.split(",")] if text is not None else None


def _read_names(path, flag):
    try:
        with open(path, encoding="utf-8") as f:
            lines = [ln.strip() for ln in f]
    except (OSError, UnicodeDecodeError) as e:
        raise ExportError(f"{flag} {path}: cannot read: {getattr(e, 'strerror', None) or e}") from None
    names = [ln for ln in lines if ln]
    if not names:
        raise ExportError(f"{flag} {path}: no names (one a line)")
    return names


def parser():
    p = argparse.ArgumentParser(prog="classify-export", description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("model", metavar="MODEL", help="joblib/pickle file, XGBoost model file or LightGBM text model file")
    p.add_argument("--out", "-o", metavar="DIR", required=True, help="directory to write into (created if needed)")
    p.add_argument("--name", help="model name: file names and manifest entry (default: MODEL's name without suffix)")
    g = p.add_argument_group("names")
    g.add_argument("--features", metavar="A,B,C", help="feature names, in column order (default: the model's)")
    g.add_argument("--features-file", metavar="FILE", help="feature names, one a line")
    g.add_argument("--classes", metavar="A,B,C",
                   help="class names in the model's class order (default: str() of classes_; required for XGBoost "
                        "files and LightGBM Boosters)")
    g.add_argument("--classes-file", metavar="FILE", help="class names, one a line")
    g = p.add_argument_group("parity file")
    g.add_argument("--rows", metavar="FILE.csv",
                   help="sample rows: header = feature names, empty cell = missing (default: seeded random rows)")
    g.add_argument("--rows-only", action="store_true", help="only the --rows (or random) rows, no edge cases")
    g.add_argument("--max-cases", type=int, default=DEFAULT_MAX_CASES, metavar="N",
                   help=f"at most N cases (default {DEFAULT_MAX_CASES})")
    g.add_argument("--seed", type=int, default=0, help="seed of the generated rows (default 0)")
    g = p.add_argument_group("XGBoost")
    g.add_argument("--xgb-format", choices=XGB_FORMATS, default="ubj",
                   help="format to save a pickled XGBoost estimator in (default ubj; binary only with xgboost < 2)")
    g = p.add_argument_group("registry")
    g.add_argument("--registry", metavar="DIR", help="also copy the artifact into DIR and add it to DIR/manifest.json")
    g.add_argument("--version", dest="model_version", default="1.0.0", help="manifest version (default 1.0.0)")
    g.add_argument("--created", metavar="TIME",
                   help="manifest created time, RFC 3339 (default: SOURCE_DATE_EPOCH if set, else now), in UTC")
    g.add_argument("--metric", action="append", default=[], metavar="SPEC",
                   help="name=accuracy,method=holdout,value=0.95[,std=0.01][,source=FILE]; repeatable")
    p.add_argument("-V", "--tool-version", action="version", version=f"classify-export {__version__}")
    return p


def run(argv, stdout=sys.stdout, stderr=sys.stderr, environ=None) -> int:
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        args = parser().parse_args(argv)  # usage errors: message, exit 2
    try:
        if args.features is not None and args.features_file is not None:
            raise ExportError("give --features or --features-file, not both")
        if args.classes is not None and args.classes_file is not None:
            raise ExportError("give --classes or --classes-file, not both")
        features = _split(args.features)
        if args.features_file:
            features = _read_names(args.features_file, "--features-file")
        classes = _split(args.classes)
        if args.classes_file:
            classes = _read_names(args.classes_file, "--classes-file")
        metrics = [parse_metric(m) for m in args.metric]
        if args.registry is None and (args.metric or args.created):
            raise ExportError("--metric and --created need --registry")
        r = export(args.model, args.out, name=args.name, features=features, classes=classes, rows=args.rows,
                   rows_only=args.rows_only, max_cases=args.max_cases, seed=args.seed, xgb_format=args.xgb_format,
                   registry_dir=args.registry, version=args.model_version, created=args.created, metrics=metrics,
                   environ=environ)
    except ExportError as e:
        print(f"classify-export: error: {e}", file=stderr)
        return 2
    for n in r.notes:
        print(f"classify-export: warning: {n}", file=stderr)
    print(f"wrote {r.artifact} ({r.kind}, {len(r.features)} features, {len(r.classes)} classes"
          f"{', takes missing values' if r.nan_ok else ''})", file=stdout)
    if r.meta:
        print(f"wrote {r.meta}", file=stdout)
    print(f"wrote {r.parity} ({r.cases} cases, {r.reference})", file=stdout)
    if r.manifest:
        print(f"updated {r.manifest} (model {r.name})", file=stdout)
    return 0


def main(argv=None):
    try:
        sys.exit(run(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        sys.exit(130)
