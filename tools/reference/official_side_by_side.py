#!/usr/bin/env python3
"""Run the *official* implementations on cells exported by ``peft data export-cell`` and record what they chose and
predicted, as fixtures for ``tests/Peft.Tests/Methods/OfficialSideBySideTests.cs``.

The official code is not part of this repository: give the folders of your own checkouts (the commits used for the
committed fixtures are recorded in the output)::

    git clone https://github.com/gaopengcuhk/Tip-Adapter   # d0e2d6f8c5feb8b6ce937b757810761f7155d4d5
    git clone https://github.com/KaiyangZhou/CoOp          # ff61507c790454bce7c5052c3ac39e60772f1f89
    git clone https://github.com/mrflogs/ICLR24            # 560fe211700964c915442ff98dbe47dd09656a35 (GDA)
    for c in "synth_shapes 1 1" "synth_shift 2 1" "synth_fine 4 2" "synth_fine 16 1" "synth_shift 16 3"; do
      set -- $c
      ./peft data export-cell experiments/quickstart.json --dataset $1 --shots $2 --seed $3 --method tip-adapter \\
        --out cells/$1-$2-$3.safetensors
    done
    /usr/bin/python3 tools/reference/official_side_by_side.py --tip-adapter Tip-Adapter --coop CoOp --gda ICLR24 \\
        --out tests/Peft.Tests/Fixtures/official cells/*.safetensors

Debian 12's python3-torch (1.13), python3-sklearn (1.2.1), python3-numpy and python3-yaml; nothing else (the
official files' other imports — CLIP's package, torchvision, tqdm, their dataset loaders — are not used by the
functions run here and are replaced by empty modules).

For each cell the official code runs *unmodified* on the cell's features (read as float32 from the fp16 copy that is
committed, so both sides start from the same numbers):

* **Zero-shot CLIP and Tip-Adapter**: Tip-Adapter ``main.py``'s ``run_tip_adapter`` with the cell's cache built by
  ``utils.py``'s ``build_cache_model`` (a stand-in CLIP whose ``encode_image`` returns the exported augmented view
  features, augment epoch e = view e; cache values cast from half to float, the project trains in fp32), the cell's
  validation features as the search set (the project's default protocol) and the exported zero-shot weights
  (``text_weights``). Recorded: ``search_hp``'s (beta, alpha) and the predictions of every ``cls_acc`` call
  (``topk``, as the official code counts).
* **GDA**: ICLR24 ``main_few_shots.py``'s ``run`` with the same stand-in CLIP (augment epoch e = view e) and loader,
  the module globals ``val_features``/``test_features`` set as its ``main`` sets them (normalised) and the exported
  zero-shot weights. Recorded: the chosen alpha (its ``best_val_alpha`` line) and the test predictions.
* **Linear probe**: CoOp's ``lpclip/linear_probe.py`` executed as a script (``runpy``) on ``train.npz`` /
  ``val.npz`` / ``test.npz`` holding the cell, ``--num_run 1``. The script draws its own K-shot subset with
  ``np.random.choice``; on a K-shot cell that is a permutation of the cell's rows, recorded here so that the C# side
  fits on the rows in the same order. The shot loop [1, 2, 4, 8, 16] stops with NumPy's error at the first count above
  the cell's K; the K block before it is the result. Recorded: every fit's C and ``n_iter_``, every prediction, the
  final C (``c_final`` of the last step) and its test predictions. The same run is repeated in child processes with
  OpenBLAS's Haswell, SandyBridge and Nehalem kernels (``OPENBLAS_CORETYPE``): on ill-conditioned cells sklearn's
  lbfgs stops at max_iter on a path that depends on the BLAS's rounding, and these runs measure how far the official
  result moves with it (the test holds ours to that spread; where all agree, ours must be identical).

Writes ``<cell>.safetensors`` (features, views and labels in fp16/int64, zero-shot weights and the unnormalised
per-template text features ``text_embeddings`` [C, T, D] fp32, which other scripts' methods start from) and
``side_by_side.json`` into ``--out``.
"""
import argparse
import importlib.util
import io
import json
import os
import runpy
import struct
import subprocess
import sys
import tempfile
import time
import types
import warnings
from contextlib import contextmanager, redirect_stdout

import numpy as np
import sklearn
import sklearn.linear_model
import torch
from sklearn.exceptions import ConvergenceWarning

# OpenBLAS kernels the linear probe is repeated with (OPENBLAS_CORETYPE, read when the library loads, so each in a
# child process): sklearn's lbfgs path depends on the BLAS's rounding, so these runs measure how far the official
# code's own results move between machines.
OPENBLAS_VARIANTS = ["Haswell", "SandyBridge", "Nehalem"]

ST = {"F32": (np.float32, torch.float32), "F16": (np.float16, torch.float16), "I64": (np.int64, torch.int64)}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    out = {}
    for name, h in header.items():
        a, b = h["data_offsets"]
        out[name] = np.frombuffer(data[a:b], dtype=ST[h["dtype"]][0]).reshape(h["shape"]).copy()
    return out, meta


def write_safetensors(path, arrays, metadata):
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    names = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16", np.dtype(np.int64): "I64"}
    for name, a in arrays.items():
        raw = np.ascontiguousarray(a).tobytes()
        header[name] = {"dtype": names[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def stub_modules():
    """Empty stand-ins for imports of the official files that the functions run here never use."""
    def module(name, **attrs):
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        sys.modules[name] = m
        return m
    module("tqdm", tqdm=lambda iterable, *a, **k: iterable)
    module("clip")
    tv = module("torchvision")
    tv.transforms = module("torchvision.transforms")
    ds = module("datasets", build_dataset=None)
    ds.utils = module("datasets.utils", build_data_loader=None)
    ds.imagenet = module("datasets.imagenet", ImageNet=None)
    module("clip.simple_tokenizer", SimpleTokenizer=lambda *a, **k: None)

    class AnyTransform:  # torchvision.transforms.X(...) at import time of main_few_shots.py
        def __init__(self, *a, **k):
            pass
    tv.transforms.__getattr__ = lambda name: types.SimpleNamespace(BICUBIC=None) if name == "InterpolationMode" else AnyTransform
    # The official code moves everything to the GPU; here everything stays on the CPU.
    torch.Tensor.cuda = lambda self, *a, **k: self
    torch.nn.Module.cuda = lambda self, *a, **k: self


def load_official(folder, file, name):
    """Executes an official entry file as a module with its folder first on sys.path (each repo has its own utils.py)."""
    sys.modules.pop("utils", None)
    sys.path.insert(0, folder)
    try:
        spec = importlib.util.spec_from_file_location(name, os.path.join(folder, file))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(folder)
        sys.modules.pop("utils", None)
    return module


def load_tip_adapter(folder):
    return load_official(folder, "main.py", "tip_adapter_main")


@contextmanager
def recorded_predictions(main):
    """Wraps the official module's cls_acc so every call also records its predictions (topk, as it counts)."""
    calls = []
    official = main.cls_acc

    def recording(output, target, topk=1):
        calls.append(output.topk(topk, 1, True, True)[1][:, 0].tolist())
        return official(output, target, topk)

    main.cls_acc = recording
    try:
        yield calls
    finally:
        main.cls_acc = official


def normalised(cell, name):
    """A split's features as the official pre_load_features returns them: float32, L2-normalised."""
    f = torch.from_numpy(cell[name].astype(np.float32))
    return f / f.norm(dim=-1, keepdim=True)


def run_gda(main, cell, views_count):
    """mrflogs/ICLR24 main_few_shots.py run(): the module's globals hold val/test features as its main() sets them."""
    clip = ViewClip(torch.from_numpy(cell["train_views"].astype(np.float32)))
    main.val_features, main.val_labels = normalised(cell, "val_features"), torch.from_numpy(cell["val_labels"])
    main.test_features, main.test_labels = normalised(cell, "test_features"), torch.from_numpy(cell["test_labels"])
    weights = torch.from_numpy(cell["text_weights"]).t().contiguous()
    with recorded_predictions(main) as calls, redirect_stdout(io.StringIO()) as log:
        main.run({"augment_epoch": views_count}, ViewLoader(clip, torch.from_numpy(cell["train_labels"])), weights, clip)
    lines = log.getvalue().splitlines()
    alpha = float(next(l for l in lines if l.startswith("best_val_alpha")).split()[1])
    assert clip.epoch == views_count - 1 and len(calls) == 8, "run() should read every view, score 7 alphas and the test set"
    return {"alpha": alpha, "test_predictions": calls[-1], "log": lines}


class ViewClip:
    """A stand-in CLIP for build_cache_model: batch b of augment epoch e → the exported view e of those rows."""

    dtype = torch.float32

    def __init__(self, views):
        self.views, self.epoch = views, -1

    def encode_image(self, images):
        return self.views[self.epoch][images]


class ViewLoader:
    """train_loader_cache (shuffle=False, batch 256): yields (row indices, labels); counts augment epochs."""

    def __init__(self, clip, labels, batch=256):
        self.clip, self.labels, self.batch = clip, labels, batch

    def __iter__(self):
        self.clip.epoch += 1
        n = len(self.labels)
        for start in range(0, n, self.batch):
            idx = torch.arange(start, min(n, start + self.batch))
            yield idx, self.labels[idx]

    def __len__(self):
        return (len(self.labels) + self.batch - 1) // self.batch


def run_tip_adapter(main, cell, cfg):
    chosen = {}
    official_search = main.search_hp

    def recording_search(*args, **kwargs):
        chosen["beta"], chosen["alpha"] = official_search(*args, **kwargs)
        return chosen["beta"], chosen["alpha"]

    main.search_hp = recording_search
    views = torch.from_numpy(cell["train_views"].astype(np.float32))
    clip = ViewClip(views)
    with recorded_predictions(main) as calls, tempfile.TemporaryDirectory() as cache_dir, redirect_stdout(io.StringIO()) as log:
        cfg = dict(cfg, cache_dir=cache_dir, load_cache=False, load_pre_feat=False, augment_epoch=views.shape[0])
        keys, values = main.build_cache_model(cfg, clip, ViewLoader(clip, torch.from_numpy(cell["train_labels"])))
        values = values.float()  # the official cache is half (GPU, fp16 CLIP); the project runs fp32
        weights = torch.from_numpy(cell["text_weights"]).t().contiguous()  # clip_classifier stacks [D, C]
        main.run_tip_adapter(cfg, keys, values, normalised(cell, "val_features"), torch.from_numpy(cell["val_labels"]),
                             normalised(cell, "test_features"), torch.from_numpy(cell["test_labels"]), weights)
    main.search_hp = official_search
    assert clip.epoch == views.shape[0] - 1, "build_cache_model did not read every view"
    assert len(calls) == 4, f"expected 4 cls_acc calls in run_tip_adapter, saw {len(calls)}"
    return {
        "beta": chosen["beta"], "alpha": chosen["alpha"],
        "zero_shot_val_predictions": calls[0], "zero_shot_test_predictions": calls[2],
        "tip_adapter_test_predictions": calls[3], "log": log.getvalue().splitlines(),
    }


class RecordingLogisticRegression(sklearn.linear_model.LogisticRegression):
    fits, predictions = [], []

    def fit(self, x, y, sample_weight=None):
        result = super().fit(x, y, sample_weight)
        RecordingLogisticRegression.fits.append({"C": float(self.C), "n_iter": int(self.n_iter_[0])})
        return result

    def predict(self, x):
        p = super().predict(x)
        RecordingLogisticRegression.predictions.append({"rows": int(x.shape[0]), "labels": p.astype(int).tolist()})
        return p


def run_lpclip(coop, cell, regression, choice):
    """CoOp's ``lpclip/linear_probe.py`` executed as a script on the cell (``train``/``val``/``test.npz`` in a temporary
    folder, ``--num_run 1``), with sklearn's ``LogisticRegression`` and ``np.random.choice`` replaced by
    ``regression`` and ``choice`` while it runs. Returns (the message of the ValueError that ends its shot loop at the
    first count above the cell's K, or None; ``time.perf_counter()`` when the script ended)."""
    official_lr, official_choice = sklearn.linear_model.LogisticRegression, np.random.choice
    with tempfile.TemporaryDirectory() as work:
        os.makedirs(os.path.join(work, "feat", "cell"))
        for split in ("train", "val", "test"):
            np.savez(os.path.join(work, "feat", "cell", f"{split}.npz"),
                     feature_list=cell[f"{split}_features"].astype(np.float32), label_list=cell[f"{split}_labels"])
        cwd, argv = os.getcwd(), sys.argv
        os.chdir(work)
        sys.argv = ["linear_probe.py", "--dataset", "cell", "--feature_dir", "feat", "--num_run", "1"]
        sklearn.linear_model.LogisticRegression = regression
        np.random.choice = choice
        stopped = None
        try:
            with redirect_stdout(io.StringIO()):
                runpy.run_path(os.path.join(coop, "lpclip", "linear_probe.py"), run_name="__main__")
        except ValueError as e:  # the next shot count is larger than the cell has
            stopped = str(e)
        finally:
            ended = time.perf_counter()
            sklearn.linear_model.LogisticRegression = official_lr
            np.random.choice = official_choice
            os.chdir(cwd)
            sys.argv = argv
    return stopped, ended


def run_linear_probe(coop, cell, shots):
    grid, steps = 7, 8
    per_shot_fits, per_shot_predicts = grid + 2 * steps, grid + 3 * steps
    order = [1, 2, 4, 8, 16]
    RecordingLogisticRegression.fits, RecordingLogisticRegression.predictions = [], []
    choices = []
    official_choice = np.random.choice

    def recording_choice(a, size=None, replace=True, p=None):
        out = official_choice(a, size=size, replace=replace, p=p)
        choices.append(np.asarray(out).astype(int).tolist())
        return out

    stopped, _ = run_lpclip(coop, cell, RecordingLogisticRegression, recording_choice)
    block = order.index(shots)
    if shots != order[-1]:
        assert stopped is not None, "linear_probe.py should stop at the first shot count above the cell's"
    classes = len(np.unique(cell["train_labels"]))
    fits = RecordingLogisticRegression.fits[block * per_shot_fits:(block + 1) * per_shot_fits]
    predicts = RecordingLogisticRegression.predictions[block * per_shot_predicts:(block + 1) * per_shot_predicts]
    draws = choices[block * 2 * classes:(block + 1) * 2 * classes]
    assert len(fits) == per_shot_fits and len(predicts) == per_shot_predicts and len(draws) == 2 * classes
    test_rows = len(cell["test_labels"])
    tests = [p for p in predicts if p["rows"] == test_rows]
    train_order = [i for d in draws[:classes] for i in d]
    val_order = [i for d in draws[classes:] for i in d]
    # Each step fits C_left then C_right, predicts val with both, keeps the right end only if strictly better and
    # predicts test with the kept one: the last step's kept C is c_final.
    val_labels = cell["val_labels"][val_order]
    acc_left, acc_right = (np.mean(np.asarray(p["labels"]) == val_labels) for p in predicts[-3:-1])
    return {
        "train_order": train_order,
        "val_order": val_order,
        "fits": fits,
        "val_predictions": [p["labels"] for p in predicts if p["rows"] != test_rows],
        "c_final": fits[-1]["C"] if acc_left < acc_right else fits[-2]["C"],
        "test_predictions": tests[-1]["labels"],
    }


def probe_variants(script, coop, cell_path, shots):
    """lpclip on the same cell with other OpenBLAS kernels: {coretype: result}."""
    out = {}
    for core in OPENBLAS_VARIANTS:
        env = dict(os.environ, OPENBLAS_CORETYPE=core)
        child = subprocess.run([sys.executable, script, "--child-probe", cell_path, str(shots), "--coop", coop],
                               env=env, check=True, capture_output=True, text=True)
        out[core] = json.loads(child.stdout)
    return out


def main():
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    if len(sys.argv) > 1 and sys.argv[1] == "--child-probe":
        cell, _ = read_safetensors(sys.argv[2])
        print(json.dumps(run_linear_probe(os.path.abspath(sys.argv[5]), cell, int(sys.argv[3]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tip-adapter", required=True, help="checkout of gaopengcuhk/Tip-Adapter")
    parser.add_argument("--coop", required=True, help="checkout of KaiyangZhou/CoOp")
    parser.add_argument("--gda", required=True, help="checkout of mrflogs/ICLR24 (GDA)")
    parser.add_argument("--out", required=True)
    parser.add_argument("cells", nargs="+", help="files written by peft data export-cell --method tip-adapter")
    args = parser.parse_args()

    stub_modules()
    tip = load_tip_adapter(os.path.abspath(args.tip_adapter))
    gda = load_official(os.path.abspath(args.gda), "main_few_shots.py", "gda_main_few_shots")
    os.makedirs(args.out, exist_ok=True)
    result = {
        "generator": "tools/reference/official_side_by_side.py",
        "official": {"tip_adapter": commit_of(args.tip_adapter), "coop": commit_of(args.coop), "gda": commit_of(args.gda)},
        "versions": {"torch": torch.__version__, "numpy": np.__version__, "sklearn": sklearn.__version__,
                     "openblas": openblas_config()},
        "cells": [],
    }
    for path in args.cells:
        exported, meta = read_safetensors(path)
        sidecar = json.load(open(os.path.splitext(path)[0] + ".json"))
        name = os.path.splitext(os.path.basename(path))[0]
        shots = int(meta["shots"])
        # The committed inputs: features in fp16 (both sides read these values as float32), weights in fp32.
        cell = {k: exported[k].astype(np.float16) for k in
                ("train_features", "val_features", "test_features", "train_views")}
        cell.update({k: exported[k] for k in ("train_labels", "val_labels", "test_labels", "text_weights", "text_embeddings")})
        keep = {k: meta[k] for k in ("classnames", "templates", "shots", "seed", "dataset", "backbone_fingerprint",
                                     "split_sha256", "feature_cache_key") if k in meta}
        write_safetensors(os.path.join(args.out, name + ".safetensors"), cell, keep)

        options = sidecar["method"]["points"][0]
        assert sidecar["method"]["name"] == "tip-adapter" and options["templates"] == "dataset", \
            f"{path}: export the cell with --method tip-adapter (dataset templates)"
        cfg = {"search_hp": options["search"] == "true", "search_scale": json.loads(options["searchScale"]),
               "search_step": json.loads(options["searchStep"]), "init_beta": float(options["initBeta"]),
               "init_alpha": float(options["initAlpha"]), "shots": shots}
        print(f"{name}: Tip-Adapter {cfg} ...", flush=True)
        tip_result = run_tip_adapter(tip, cell, cfg)
        print(f"{name}: GDA ...", flush=True)
        gda_result = run_gda(gda, cell, cell["train_views"].shape[0])
        print(f"{name}: linear probe ...", flush=True)
        probe = run_linear_probe(os.path.abspath(args.coop), cell, shots)
        print(f"{name}: linear probe with OpenBLAS kernels {', '.join(OPENBLAS_VARIANTS)} ...", flush=True)
        variants = probe_variants(os.path.abspath(__file__), os.path.abspath(args.coop),
                                  os.path.join(args.out, name + ".safetensors"), shots)
        result["cells"].append({
            "file": name + ".safetensors", "dataset": meta["dataset"], "shots": shots, "seed": int(meta["seed"]),
            "tip_adapter_config": cfg, "tip_adapter": tip_result, "gda": gda_result, "linear_probe": probe,
            "linear_probe_openblas": {core: {k: v[k] for k in ("fits", "c_final", "test_predictions")}
                                      for core, v in variants.items()},
        })
    with open(os.path.join(args.out, "side_by_side.json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")


def openblas_config():
    try:
        from threadpoolctl import threadpool_info
        return [f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')}" for i in threadpool_info()
                if i.get("internal_api") == "openblas"]
    except ImportError:
        return "unknown"


def commit_of(folder):
    """The checkout's commit, or the one written in <folder>/COMMIT beside a `git archive` extract."""
    head = os.path.join(folder, ".git", "HEAD")
    if not os.path.exists(head):
        marker = os.path.join(folder, "COMMIT")
        return open(marker).read().strip() if os.path.exists(marker) else "unknown (not a git checkout)"
    ref = open(head).read().strip()
    if ref.startswith("ref: "):
        path = os.path.join(folder, ".git", ref[5:])
        return open(path).read().strip() if os.path.exists(path) else ref
    return ref


if __name__ == "__main__":
    main()
