"""research-check: prove that the committed research outputs are what the code produces.

    python3 research/check.py [--python /usr/bin/python3] [--keep]

1. Copies research/, python/ (the exporter research uses), models/, testdata/golden/, the parity
   suite of the pinned versions (testdata/parity/sklearn-1.9.1_xgboost-3.2.0/), the boosting
   families' suite (testdata/boosting/sklearn-1.9.1_lightgbm-4.7.0/), the contribution references
   (testdata/contrib/), the committed scikit-learn and XGBoost suites they explain
   (testdata/sklearn/, testdata/xgboost/: inputs, not regenerated) and the Makefile into a
   temporary directory.
2. Deletes every generated file in the copy (data CSV, results, EXPERIMENT.md files and
   figures, the registry's artifacts and manifest, golden files, the contribution references,
   the notebook's outputs), so a
   step that silently stops writing cannot pass.
3. Runs `make research` in the copy (the same pipeline as in the working tree).
4. Compares the copy with the working tree and exits non-zero, listing what differs.

Everything is compared byte for byte, with two documented exceptions:
- research/eda/EDA.ipynb: compared as JSON with the embedded PNG figures left out (their bytes
  depend on the font and freetype build, not on our code; their presence and count are
  compared). Sources, text outputs and tables must be equal.
- research/models/ (the timestamped candidates) is history, not regenerated: the copy starts
  with the committed candidates, and the check fails if the rerun had to create a new one
  (train.py only reuses the newest candidate when its bytes are exactly what the code
  produces), or changed any candidate file. That is also why models/manifest.json, whose
  `created` is the candidate's recorded time, compares byte for byte.

The working tree is never written to (the pipeline writes only inside the copy).
"""
from __future__ import annotations

import argparse
import filecmp
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.dont_write_bytecode = True
ROOT = Path(__file__).resolve().parents[1]
# The parity suite of the pinned versions is regenerated; the compatibility generations beside it
# (made by other library versions) are not, and are not copied.
PINNED = {"sklearn": "1.9.1", "xgboost": "3.2.0", "lightgbm": "4.7.0"}
# shap writes the scikit-learn kinds' contribution references (testdata/contrib/)
SHAP = "0.49.1"
PARITY = f"testdata/parity/sklearn-{PINNED['sklearn']}_xgboost-{PINNED['xgboost']}"
# The boosting families' suite (issue 11: lightgbm, hist_gradient_boosting, gradient_boosting).
BOOSTING = f"testdata/boosting/sklearn-{PINNED['sklearn']}_lightgbm-{PINNED['lightgbm']}"
# Issue 12's contribution references: regenerated (testdata/contrib/), from the registry, the
# boosting suite and two committed suites that research does not regenerate (testdata/sklearn,
# testdata/xgboost: copied as inputs).
CONTRIB = "testdata/contrib"
COPY = ["research", "python", "models", "testdata/golden", PARITY, BOOSTING, CONTRIB, "testdata/sklearn",
        "testdata/xgboost", "Makefile"]
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")
NOTEBOOK = "research/eda/EDA.ipynb"


def generated(root):
    """Generated files (relative paths) currently present under root."""
    pats = ["research/data/iris.csv", "research/results/*", "research/experiments/*/EXPERIMENT.md",
            "research/experiments/*/figures/*", "testdata/golden/*.json", PARITY + "/*/*", BOOSTING + "/*/*",
            CONTRIB + "/**/*.contrib.json"]
    out = set()
    for p in pats:
        out |= {q.relative_to(root).as_posix() for q in root.glob(p) if q.is_file()}
    reg = root / "models"
    if reg.exists():
        out |= {q.relative_to(root).as_posix() for q in reg.iterdir() if q.is_file() and q.suffix != ".go"}
    return out


def files_under(root, scopes):
    out = set()
    for s in scopes:
        p = root / s
        if p.is_file():
            out.add(s)
        elif p.is_dir():
            out |= {q.relative_to(root).as_posix() for q in p.rglob("*")
                    if q.is_file() and "__pycache__" not in q.parts and ".ipynb_checkpoints" not in q.parts
                    and q.suffix != ".pyc"}
    return out


def strip_notebook(nb, drop_images):
    nb = json.loads(json.dumps(nb))
    for cell in nb["cells"]:
        cell.get("metadata", {}).pop("execution", None)
        for out in cell.get("outputs", []):
            if drop_images and "data" in out:
                for k in list(out["data"]):
                    if k.startswith("image/"):
                        out["data"][k] = "<image>"
    return nb


def clear_notebook(path):
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
            cell.get("metadata", {}).pop("execution", None)
    path.write_text(json.dumps(nb, indent=1) + "\n")


def describe_json_diff(a, b, path="", out=None, limit=10):
    out = [] if out is None else out
    if len(out) >= limit:
        return out
    if type(a) != type(b):
        out.append(f"{path or '/'}: {a!r:.80} != {b!r:.80}")
    elif isinstance(a, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                out.append(f"{path}/{k}: only in {'committed' if k in a else 'regenerated'}")
            else:
                describe_json_diff(a[k], b[k], f"{path}/{k}", out, limit)
    elif isinstance(a, list):
        if len(a) != len(b):
            out.append(f"{path}: {len(a)} items committed, {len(b)} regenerated")
        for i, (x, y) in enumerate(zip(a, b)):
            describe_json_diff(x, y, f"{path}[{i}]", out, limit)
    elif a != b:
        out.append(f"{path}: committed {a!r:.80}, regenerated {b!r:.80}")
    return out


def explain(rel, a, b):
    """A few lines on how two differing files differ."""
    try:
        ja, jb = json.loads(a.read_text()), json.loads(b.read_text())
        return describe_json_diff(ja, jb)
    except (ValueError, UnicodeDecodeError):
        pass
    try:
        la, lb = a.read_text().splitlines(), b.read_text().splitlines()
    except UnicodeDecodeError:
        return [f"binary: {a.stat().st_size} bytes committed, {b.stat().st_size} regenerated"]
    import difflib
    return list(difflib.unified_diff(la, lb, "committed", "regenerated", lineterm="", n=0))[:20]


# The artifacts are byte-identical only when made by the same library builds: PINNED, above.


def check_versions(python):
    """Fail at once, clearly, when the reference libraries are not the pinned
    versions (another environment), rather than with byte diffs."""
    probe = ("import sklearn, xgboost, lightgbm, shap; "
             "print(sklearn.__version__, xgboost.__version__, lightgbm.__version__, shap.__version__)")
    out = subprocess.run([python, "-c", probe], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"research-check: {python} cannot import scikit-learn, XGBoost, LightGBM and shap:\n{out.stderr.strip()}\n"
                 "make the research environment with `make environment-create` (research/README.md)")
    want = dict(PINNED, shap=SHAP)
    found = dict(zip(want, out.stdout.split()))
    wrong = [f"{k} {found.get(k)} (want {v})" for k, v in want.items() if found.get(k) != v]
    if wrong:
        sys.exit(f"research-check: the committed artifacts were made with scikit-learn {PINNED['sklearn']}, "
                 f"XGBoost {PINNED['xgboost']}, LightGBM {PINNED['lightgbm']} and shap {SHAP} (research/requirements.txt); "
                 f"{python} has " + ", ".join(wrong) +
                 ": a byte comparison would fail for that reason alone")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--keep", action="store_true", help="keep the temporary copy for inspection")
    args = ap.parse_args()
    started = time.time()
    check_versions(args.python)

    tmp = Path(tempfile.mkdtemp(prefix="research-check-"))
    problems = []
    try:
        for s in COPY:
            src, dst = ROOT / s, tmp / s
            if not src.exists():
                problems.append(f"{s}: missing in the working tree")
                continue
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dst, ignore=IGNORE)
            else:
                shutil.copy2(src, dst)
        committed_generated = generated(ROOT)
        for rel in generated(tmp):
            (tmp / rel).unlink()
        clear_notebook(tmp / NOTEBOOK)
        candidates_before = files_under(tmp, ["research/models"])

        print(f"research-check: running `make research` in {tmp}", flush=True)
        log = tmp / "research-check.log"
        with open(log, "w") as f:
            rc = subprocess.run(["make", "--no-print-directory", "-C", str(tmp), "research",
                                 f"PYTHON={args.python}"], stdout=f, stderr=subprocess.STDOUT).returncode
        if rc != 0:
            print(log.read_text()[-4000:])
            problems.append(f"`make research` failed in the copy (exit {rc})")

        # 1. generated files: the same set, the same bytes
        regenerated = generated(tmp)
        for rel in sorted(committed_generated - regenerated):
            problems.append(f"{rel}: committed but not produced by the code")
        for rel in sorted(regenerated - committed_generated):
            problems.append(f"{rel}: produced by the code but not in the working tree")
        for rel in sorted(committed_generated & regenerated):
            if not filecmp.cmp(ROOT / rel, tmp / rel, shallow=False):
                problems.append(f"{rel}: differs")
                problems += [f"    {line}" for line in explain(rel, ROOT / rel, tmp / rel)]
        # 2. candidates: no new one, none changed
        candidates_after = files_under(tmp, ["research/models"])
        for rel in sorted(candidates_after - candidates_before):
            problems.append(f"{rel}: a new candidate was needed: the committed candidates are not what the code "
                            "produces (rerun `make research` and commit)")
        for rel in sorted(candidates_before & candidates_after):
            if not filecmp.cmp(ROOT / rel, tmp / rel, shallow=False):
                problems.append(f"{rel}: candidate file changed")
        # 3. notebook: semantic comparison (figures' bytes excluded)
        a = json.loads((ROOT / NOTEBOOK).read_text())
        b = json.loads((tmp / NOTEBOOK).read_text())
        sa, sb = strip_notebook(a, True), strip_notebook(b, True)
        if sa != sb:
            problems.append(f"{NOTEBOOK}: differs (ignoring embedded image bytes)")
            problems += [f"    {line}" for line in describe_json_diff(sa, sb)]
        elif strip_notebook(a, False) != strip_notebook(b, False):
            print(f"research-check: note: {NOTEBOOK}: embedded figures differ in bytes only (not an error)")
        # 4. sources must be untouched by the pipeline
        for rel in sorted(files_under(tmp, ["research"]) - regenerated - candidates_after - {NOTEBOOK}):
            src = ROOT / rel
            if rel.endswith(".log"):
                continue
            if not src.exists() or not filecmp.cmp(src, tmp / rel, shallow=False):
                problems.append(f"{rel}: source file written or created by the pipeline")
    finally:
        if args.keep:
            print(f"research-check: copy kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)

    took = time.time() - started
    if problems:
        print(f"research-check: FAILED ({took:.0f}s):")
        for p in problems:
            print(f"  {p}")
        sys.exit(1)
    print(f"research-check: OK ({took:.0f}s): data, results, summary, EXPERIMENT.md files, figures, "
          "artifacts, manifest and golden files are byte-identical to what the code produces; "
          "the notebook matches (figure bytes aside); no new candidate was needed")


if __name__ == "__main__":
    main()
