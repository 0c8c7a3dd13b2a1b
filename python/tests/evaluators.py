"""Independent readings of the boosting formats: what the Go loaders must compute.

Each evaluator reads the artifact as research/FORMATS.md describes it (never the library's
objects) and predicts one row in float64, so the tests prove that the documented rules give
the library's own answers on every parity case.
"""
from __future__ import annotations

import math

import numpy as np

K_ZERO_THRESHOLD = float(np.float32(1e-35))  # LightGBM's kZeroThreshold: 1e-35f as a double


def _sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def _softmax(raw):
    m = max(raw)
    e = [math.exp(v - m) for v in raw]
    s = 0.0
    for v in e:
        s += v
    return [v / s for v in e]


# ---------------------------------------------------------------------------- LightGBM text


def parse_lightgbm(text):
    """Header and trees of a LightGBM text model (v4)."""
    lines = text.split("\n")
    head, trees, cur = {}, [], None
    for line in lines:
        line = line.rstrip("\r")
        if line == "end of trees":
            break
        if line.startswith("Tree="):
            cur = {}
            trees.append(cur)
            continue
        if "=" in line:
            k, v = line.split("=", 1)
            (cur if cur is not None else head)[k] = v
        elif line and cur is None:
            head[line] = ""
    out = []
    for t in trees:
        n = int(t["num_leaves"])
        d = {"num_leaves": n, "leaf_value": [float(v) for v in t["leaf_value"].split()]}
        if n > 1:
            d["split_feature"] = [int(v) for v in t["split_feature"].split()]
            d["threshold"] = [float(v) for v in t["threshold"].split()]
            d["decision_type"] = [int(v) for v in t["decision_type"].split()]
            d["left_child"] = [int(v) for v in t["left_child"].split()]
            d["right_child"] = [int(v) for v in t["right_child"].split()]
        if int(t.get("num_cat", "0")) > 0:
            d["cat_boundaries"] = [int(v) for v in t["cat_boundaries"].split()]
            d["cat_threshold"] = [int(v) for v in t["cat_threshold"].split()]
        out.append(d)
    return head, out


def _lgb_decision(t, node, x):
    fval = x[t["split_feature"][node]]
    dt = t["decision_type"][node]
    if dt & 1:  # categorical
        if math.isnan(fval):
            return t["right_child"][node]
        if not (-2147483648.0 < fval < 2147483648.0):  # int cast out of range: x86 gives INT_MIN
            return t["right_child"][node]
        iv = int(fval)  # truncation toward zero, as static_cast<int>
        if iv < 0:
            return t["right_child"][node]
        ci = int(t["threshold"][node])
        lo, hi = t["cat_boundaries"][ci], t["cat_boundaries"][ci + 1]
        i1 = iv // 32
        if i1 < hi - lo and (t["cat_threshold"][lo + i1] >> (iv % 32)) & 1:
            return t["left_child"][node]
        return t["right_child"][node]
    missing = (dt >> 2) & 3  # 0 None, 1 Zero, 2 NaN
    if math.isnan(fval) and missing != 2:
        fval = 0.0
    if (missing == 1 and -K_ZERO_THRESHOLD <= fval <= K_ZERO_THRESHOLD) or (missing == 2 and math.isnan(fval)):
        return t["left_child"][node] if dt & 2 else t["right_child"][node]
    return t["left_child"][node] if fval <= t["threshold"][node] else t["right_child"][node]


def eval_lightgbm(text, row):
    head, trees = parse_lightgbm(text)
    # the C API drops |x| <= kZeroThreshold (the predictor's buffer holds 0.0 there)
    x = [v if (math.isnan(v) or abs(v) > K_ZERO_THRESHOLD) else 0.0 for v in row]
    k = int(head["num_tree_per_iteration"])
    raw = [0.0] * k
    for i, t in enumerate(trees):
        node = 0
        if t["num_leaves"] > 1:
            while node >= 0:
                node = _lgb_decision(t, node, x)
            leaf = ~node
        else:
            leaf = 0
        raw[i % k] += t["leaf_value"][leaf]
    if "average_output" in head:
        n_iter = len(trees) // k
        raw = [v / n_iter for v in raw]
    words = head["objective"].split()
    params = dict(w.split(":", 1) for w in words[1:] if ":" in w)
    sigmoid = float(params.get("sigmoid", "1"))
    if words[0] == "binary":
        p = 1.0 / (1.0 + math.exp(-sigmoid * raw[0]))
        return [1.0 - p, p]
    if words[0] == "multiclassova":
        return [1.0 / (1.0 + math.exp(-sigmoid * v)) for v in raw]
    return _softmax(raw)


# ---------------------------------------------------------------------------- sklearn HGB


def _in_bitset(bitset, v):
    return (bitset[v // 32] >> (v % 32)) & 1


def eval_hgb(doc, row):
    # preprocessing: categorical columns first, raw category -> its index, unknown/NaN -> NaN
    x = []
    for fi in doc["columns"]:
        v = row[fi]
        cats = doc["categories"][fi]
        if cats is not None and not math.isnan(v):
            v = float(cats.index(v)) if v in cats else math.nan
        x.append(v)
    k = len(doc["baseline"])
    raw = list(doc["baseline"])
    for it in doc["iterations"]:
        for c, p in enumerate(it):
            n = 0
            while not p["is_leaf"][n]:
                v = x[p["feature_idx"][n]]
                if math.isnan(v):
                    left = bool(p["missing_go_to_left"][n])
                elif p["is_categorical"][n]:
                    cv = int(v) & 0xFF
                    if v < 0:
                        left = bool(p["missing_go_to_left"][n])
                    elif _in_bitset(p["raw_left_cat_bitsets"][p["bitset_idx"][n]], cv):
                        left = True
                    elif _in_bitset(doc["known_cat_bitsets"][doc["f_idx_map"][p["feature_idx"][n]]], cv):
                        left = False
                    else:
                        left = bool(p["missing_go_to_left"][n])
                else:
                    left = v <= p["num_threshold"][n]
                n = p["left"][n] if left else p["right"][n]
            raw[c] += p["value"][n]
    if k == 1:
        q = _sigmoid(raw[0])
        return [1.0 - q, q], (1 if raw[0] > 0 else 0)
    return _softmax(raw), int(np.argmax(raw))


# ---------------------------------------------------------------------------- sklearn GB


def eval_gb(doc, row):
    x = [float(np.float32(v)) for v in row]
    raw = list(doc["init_raw"])
    lr = doc["learning_rate"]
    for stage in doc["stages"]:
        for c, t in enumerate(stage):
            n = 0
            while t["children_left"][n] != -1:
                n = t["children_left"][n] if x[t["feature"][n]] <= t["threshold"][n] else t["children_right"][n]
            raw[c] += lr * t["value"][n]
    if len(raw) == 1:
        q = _sigmoid(raw[0])
        return [1.0 - q, q], (1 if raw[0] >= 0 else 0)
    return _softmax(raw), int(np.argmax(raw))
