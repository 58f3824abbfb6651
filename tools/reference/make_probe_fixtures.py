#!/usr/bin/env python3
"""Write golden fixtures for the linear-probe plugin (plugins/Peft.Methods.LinearProbe) with scikit-learn.

Usage (from the repository root; Debian's python3-sklearn / numpy)::

    /usr/bin/python3 tools/reference/make_probe_fixtures.py [--out tests/Peft.Tests/Fixtures/probe]

Outputs (JSON, all numbers as float64 written with repr, so they round-trip exactly):

* ``fits.json``: small datasets (Gaussian class clusters, D = 8..32, K = 2..5, N = 40..100; one well separated,
  one heavily overlapping, one with large unnormalised features like CLIP's, one binary) with
  ``LogisticRegression(solver="lbfgs", penalty="l2", max_iter=1000, C=c)`` fitted for C in {1e-2, 1, 100}:
  ``coef_``, ``intercept_``, ``n_iter_`` and predictions on a held-out set, once with sklearn's defaults
  (tol 1e-4: what lpclip runs) and once "tight" (tol 1e-12, max_iter 20000), the minimiser itself up to
  rounding, which is what the C# solver must reproduce to a small relative error.
* ``search.json``: a few-shot-like problem (K = 6 classes, 8 shots, 20 val per class so that the search is not all ties, 30 test per class) and the
  result of lpclip's C search, transcribed from CoOp ``lpclip/linear_probe.py`` (KaiyangZhou/CoOp ff61507c) in
  ``lpclip_search`` below: the coarse grid [1e6, 1e4, 1e2, 1, 1e-2, 1e-4, 1e-6] scored by val accuracy
  (``np.argmax``: first maximum wins), then 8 steps, each fitting C_left and C_right, keeping the right end only
  if strictly better (ties keep the left), and moving to the half of the log10 interval on the kept side; the
  final C and classifier are those kept at the last step. Every step's (C_left, C_right, acc_left, acc_right,
  C_kept) is recorded.

* ``numpy_sum.json``: ``np.sum`` of float64 arrays (given by a formula) of lengths around NumPy's pairwise block and
  buffer sizes: the order in which sklearn adds the per-sample losses, reproduced by ``NumpySum``.

* ``hard.json``: few-shot CLIP-like problems (16 and 8 shots of 10 classes, and a binary one; large-scale 16-d features) where weak regularisation makes sklearn
  stop at max_iter or on ftol far from the minimiser: every grid C fitted with lpclip's settings (coef, n_iter, test
  predictions and scores) and lpclip's full C search. The C# solver is a transcription of L-BFGS-B, so it must take
  the same path, not only reach the same minimiser.

sklearn's version is recorded: with 1.2.x the lbfgs objective is sum_i CE_i + ||W||^2 / (2C) (intercept not
penalised) minimised by scipy's L-BFGS-B (maxcor 10, maxls 20, ftol 2.22e-9, gtol = tol on max |g_i|).
"""
import argparse
import json
import os

import numpy as np
import scipy
import sklearn
from sklearn.linear_model import LogisticRegression

GRID = [1e6, 1e4, 1e2, 1, 1e-2, 1e-4, 1e-6]


def clusters(rng, k, d, n_per, spread, scale=1.0, offset=0.0):
    means = rng.normal(0, spread, size=(k, d))
    x = np.concatenate([means[c] + rng.normal(0, 1, size=(n_per, d)) for c in range(k)])
    y = np.repeat(np.arange(k), n_per)
    return x * scale + offset, y


def fit(x, y, c, tol=1e-4, max_iter=1000):
    return LogisticRegression(solver="lbfgs", penalty="l2", max_iter=max_iter, C=c, tol=tol).fit(x, y)


def lpclip_search(xtr, ytr, xval, yval, num_step=8):
    """Transcription of lpclip/linear_probe.py's search (same arithmetic, same order)."""
    acc_list = []
    for c_weight in GRID:
        clf = fit(xtr, ytr, c_weight)
        pred = clf.predict(xval)
        acc_list.append(sum(pred == yval) / len(yval))
    peak_idx = np.argmax(acc_list)
    c_peak = GRID[peak_idx]
    c_left, c_right = 1e-1 * c_peak, 1e1 * c_peak
    steps = []
    clf_final = c_final = None
    for _ in range(num_step):
        clf_left = fit(xtr, ytr, c_left)
        acc_left = sum(clf_left.predict(xval) == yval) / len(yval)
        clf_right = fit(xtr, ytr, c_right)
        acc_right = sum(clf_right.predict(xval) == yval) / len(yval)
        step = {"c_left": float(c_left), "c_right": float(c_right), "acc_left": float(acc_left), "acc_right": float(acc_right)}
        if acc_left < acc_right:
            c_final, clf_final = c_right, clf_right
            c_left = 0.5 * (np.log10(c_right) + np.log10(c_left))
            c_right = np.log10(c_right)
        else:
            c_final, clf_final = c_left, clf_left
            c_right = 0.5 * (np.log10(c_right) + np.log10(c_left))
            c_left = np.log10(c_left)
        c_left, c_right = np.power(10, c_left), np.power(10, c_right)
        step["c_kept"] = float(c_final)
        steps.append(step)
    return [float(a) for a in acc_list], float(GRID[peak_idx]), steps, float(c_final), clf_final


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="tests/Peft.Tests/Fixtures/probe")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(20240601)
    specs = [
        ("separated", dict(k=3, d=16, n_per=20, spread=1.5)),
        ("overlap", dict(k=5, d=32, n_per=20, spread=0.3)),
        ("unnormalised", dict(k=4, d=24, n_per=12, spread=0.6, scale=4.0, offset=1.5)),
        ("binary", dict(k=2, d=8, n_per=20, spread=0.5)),
    ]
    datasets = []
    for name, spec in specs:
        x, y = clusters(rng, **{**spec, "n_per": spec["n_per"] * 2})
        idx = rng.permutation(len(y))
        half = len(y) // 2
        tr, te = idx[:half], idx[half:]
        fits = []
        for c in [1e-2, 1.0, 100.0]:
            clf = fit(x[tr], y[tr], c)
            tight = fit(x[tr], y[tr], c, tol=1e-12, max_iter=20000)
            fits.append({
                "c": c,
                "coef": clf.coef_.tolist(), "intercept": clf.intercept_.tolist(), "n_iter": int(clf.n_iter_[0]),
                "predictions": clf.predict(x[te]).tolist(),
                "tight_coef": tight.coef_.tolist(), "tight_intercept": tight.intercept_.tolist(),
                "tight_n_iter": int(tight.n_iter_[0]),
                "tight_predictions": tight.predict(x[te]).tolist(),
            })
        datasets.append({"name": name, "classes": spec["k"], "train_x": x[tr].tolist(), "train_y": y[tr].tolist(),
                         "test_x": x[te].tolist(), "test_y": y[te].tolist(), "fits": fits})
    meta = {"sklearn": sklearn.__version__, "scipy": scipy.__version__, "numpy": np.__version__}
    with open(os.path.join(args.out, "fits.json"), "w") as f:
        json.dump({**meta, "datasets": datasets}, f)

    # Few-shot-like search problem: moderately overlapping clusters, unnormalised, 8 shots.
    k, d = 6, 32
    means = rng.normal(0, 0.55, size=(k, d))
    def draw(n_per):
        x = np.concatenate([means[c] + rng.normal(0, 1, size=(n_per, d)) for c in range(k)])
        return x * 3.0 + 0.5, np.repeat(np.arange(k), n_per)
    xtr, ytr = draw(8)
    xval, yval = draw(20)
    xte, yte = draw(30)
    accs, c_peak, steps, c_final, clf = lpclip_search(xtr, ytr, xval, yval)
    val_acc = float(sum(clf.predict(xval) == yval) / len(yval))
    pred = clf.predict(xte)
    search = {**meta, "classes": k, "train_x": xtr.tolist(), "train_y": ytr.tolist(), "val_x": xval.tolist(),
              "val_y": yval.tolist(), "test_x": xte.tolist(), "test_y": yte.tolist(), "grid": GRID,
              "grid_val_acc": accs, "c_peak": c_peak, "steps": steps, "c_final": c_final, "val_acc": val_acc,
              "test_acc": float(np.mean(pred == yte)), "test_predictions": pred.tolist(),
              "coef": clf.coef_.tolist(), "intercept": clf.intercept_.tolist()}
    with open(os.path.join(args.out, "search.json"), "w") as f:
        json.dump(search, f)
    print("grid acc", accs, "peak", c_peak, "final", c_final, "val", val_acc, "test", search["test_acc"])
    for s in steps:
        print(s)
    for ds in datasets:
        print(ds["name"], [(fi["c"], fi["n_iter"], fi["tight_n_iter"]) for fi in ds["fits"]])

    # Hard cells: few-shot problems shaped like CLIP features (unnormalised, correlated dimensions, few images per
    # class), where weakly regularised fits (C = 1e6 .. 1e2) run into max_iter = 1000 or stop on ftol far from the
    # minimiser, so the solver's path, not only its minimiser, decides the predictions. Every grid C is fitted with
    # lpclip's settings, and lpclip's full C search is run.
    hard = []
    for name, k, d, shots, spread, scale in [("hard-16shot", 10, 16, 16, 0.4, 12.0), ("hard-8shot", 10, 16, 8, 0.4, 12.0),
                                             ("hard-binary", 2, 16, 16, 0.3, 12.0)]:
        means = rng.normal(0, spread, size=(k, d))
        mix = np.eye(d) + 0.3 * rng.normal(0, 1, size=(d, d)) / np.sqrt(d)
        def draw(n_per):
            x = np.concatenate([means[c] + rng.normal(0, 1, size=(n_per, d)) for c in range(k)]) @ mix
            return x * scale + 0.7, np.repeat(np.arange(k), n_per)
        xtr, ytr = draw(shots)
        xval, yval = draw(4)
        xte, yte = draw(10)
        fits = []
        for c in GRID:
            clf = fit(xtr, ytr, c)
            fits.append({"c": c, "n_iter": int(clf.n_iter_[0]), "coef": clf.coef_.tolist(),
                         "intercept": clf.intercept_.tolist(), "test_predictions": clf.predict(xte).tolist(),
                         "test_scores": clf.decision_function(xte).tolist()})
        accs, c_peak, steps, c_final, clf = lpclip_search(xtr, ytr, xval, yval)
        hard.append({"name": name, "classes": k, "train_x": xtr.tolist(), "train_y": ytr.tolist(),
                     "val_x": xval.tolist(), "val_y": yval.tolist(), "test_x": xte.tolist(), "test_y": yte.tolist(),
                     "fits": fits, "grid_val_acc": accs, "c_peak": c_peak, "steps": steps, "c_final": c_final,
                     "test_predictions": clf.predict(xte).tolist()})
        print(name, [(f["c"], f["n_iter"]) for f in fits], "search:", accs, c_final)
    with open(os.path.join(args.out, "hard.json"), "w") as f:
        json.dump({**meta, "datasets": hard}, f)

    # np.sum of float64 arrays (the order sklearn's loss.sum() adds per-sample losses in): lengths around NumPy's
    # pairwise block (8, 128) and ufunc buffer (8192). Values a_i = (i·7919 mod 1000 − 499.5)·2^(i·13 mod 81 − 40),
    # exact in float64 and in C#, spanning 80 binades so that the order of additions shows in the rounding.
    sums = []
    for n in [0, 1, 5, 7, 8, 9, 15, 16, 17, 127, 128, 129, 255, 256, 300, 1000, 8191, 8192, 8193, 16000, 20000]:
        i = np.arange(n, dtype=np.int64)
        a = ((i * 7919) % 1000 - 499.5) * np.exp2(((i * 13) % 81 - 40).astype(np.float64))
        sums.append({"n": n, "sum": float(np.sum(a))})
    with open(os.path.join(args.out, "numpy_sum.json"), "w") as f:
        json.dump({"numpy": np.__version__, "sums": sums}, f)


if __name__ == "__main__":
    main()
