"""Promote candidates into the production registry (models/) and rewrite models/manifest.json.

    python3 research/promote.py [NAME ...] [--candidate TIMESTAMP]

For each name (default: all four), the newest candidate under research/models/<name>/ (or the
one given with --candidate, for a single name) is copied into models/ and its manifest entry is
replaced; entries of other models are kept. The manifest is only ever written by this script.
`created` is the candidate's recorded creation time, so promoting the same candidate again
writes the same bytes.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
import train  # noqa: E402

MANIFEST = common.REGISTRY / "manifest.json"


def entry_from(cand_dir):
    cand = json.loads((cand_dir / "candidate.json").read_text())
    art = cand_dir / cand["file"]
    if common.sha256_file(art) != cand["sha256"]:
        raise SystemExit(f"{common.rel(art)}: sha256 does not match its candidate.json")
    e = {"name": cand["name"], "kind": cand["kind"], "file": cand["file"], "sha256": cand["sha256"]}
    if cand["kind"] == "xgboost":
        meta = cand_dir / (cand["file"] + ".meta.json")
        if common.sha256_file(meta) != cand["meta_sha256"]:
            raise SystemExit(f"{common.rel(meta)}: sha256 does not match its candidate.json")
        e["meta_sha256"] = cand["meta_sha256"]
    e.update({"version": cand["version"], "created": cand["created"], "features": cand["features"],
              "classes": cand["classes"], "metrics": cand["metrics"]})
    return e


def promote(names, timestamp=None):
    manifest = {"format": "classify/manifest", "format_version": 1, "models": []}
    if MANIFEST.exists():
        manifest = json.loads(MANIFEST.read_text())
    entries = {m["name"]: m for m in manifest["models"]}
    for name in names:
        cands = train.candidates(name)
        if not cands:
            raise SystemExit(f"no candidate for {name}: run research/train.py {name} first")
        if timestamp:
            cand_dir = common.CANDIDATES / name / timestamp
            if not cand_dir.is_dir():
                raise SystemExit(f"no candidate {common.rel(cand_dir)}")
        else:
            cand_dir = cands[-1]
        e = entry_from(cand_dir)
        files = [e["file"]] + ([e["file"] + ".meta.json"] if e["kind"] == "xgboost" else [])
        common.REGISTRY.mkdir(parents=True, exist_ok=True)
        for f in files:
            shutil.copyfile(cand_dir / f, common.REGISTRY / f)
        entries[name] = e
        print(f"promoted {common.rel(cand_dir)} -> models/{e['file']} (version {e['version']}, created {e['created']})")
    order = {n: i for i, n in enumerate(common.NAMES)}
    manifest["models"] = sorted(entries.values(), key=lambda m: (order.get(m["name"], len(order)), m["name"]))
    common.write_json(MANIFEST, manifest)
    for m in manifest["models"]:  # verify what we wrote
        if common.sha256_file(common.REGISTRY / m["file"]) != m["sha256"]:
            raise SystemExit(f"models/{m['file']}: sha256 does not match the manifest")
    print(f"wrote {common.rel(MANIFEST)} ({len(manifest['models'])} models)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", default=common.NAMES)
    ap.add_argument("--candidate", help="candidate timestamp directory (only with a single name)")
    args = ap.parse_args()
    for n in args.names:
        if n not in common.NAMES:
            raise SystemExit(f"unknown model {n!r}; expected one of {common.NAMES}")
    if args.candidate and len(args.names) != 1:
        raise SystemExit("--candidate needs exactly one model name")
    promote(args.names, args.candidate)


if __name__ == "__main__":
    main()
