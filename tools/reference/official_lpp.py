#!/usr/bin/env python3
"""Run the *official* LP++ (Huang et al., CVPR 2024) on the committed official-comparison cells and record what it
computed and predicted, as the fixture of ``tests/Peft.Tests/Methods/LppOfficialTests.cs``.

The official code is not part of this repository; clone it at the commit the committed fixture was made with::

    git clone https://github.com/FereshteShakeri/FewShot-CLIP-Strong-Baseline LPpp
    git -C LPpp checkout f81054f995b060f8348d20e7306e15889b70c786
    /usr/bin/python3 tools/reference/official_lpp.py --lpp LPpp \\
        --out tests/Peft.Tests/Fixtures/official/lpp.json tests/Peft.Tests/Fixtures/official/*.safetensors

Debian 12's python3-torch (1.13), python3-numpy, python3-scipy, python3-yaml; the cells are the ones
``official_side_by_side.py`` wrote (features fp16, read as float32 on both sides).

What runs: ``methods/linear_probe_p2.py``'s ``LinearProbe_P2.forward`` unmodified, with ``train_epoch`` from the
official ``configs/base.yaml``. Its package ``methods/__init__.py`` is not executed (it imports the other baselines,
which LP++ does not use); ``tqdm`` is an empty stand-in. What stands in for CLIP and the data:

* ``train_loader`` (main.py: shuffle=True, batch 256, the augmenting ``train_tranform``): yields the cell's augmented
  view 0 of every training image — LP++ encodes the training set once, so one augmented view per image — in a
  shuffled order (``torch.randperm`` seeded with the cell's seed), recorded so that the C# side sums in the same order.
* ``val_loader``: the cell's validation features in order; ``test_features``: the cell's test features, normalised as
  main.py's ``pre_load_features`` does; ``text_weights``: the exported zero-shot weights, [D, C] as
  ``clip_classifier`` stacks them.
* ``model``: ``encode_image`` returns the given features; ``dtype`` float32 (on the GPU the official CLIP is fp16; the
  project trains in float32, as the official code does on a CPU).
* ``methods.utils.get_one_hot`` is wrapped to return float32: the official one-hot is hard-coded fp16 and
  ``torch.bmm`` has no fp16 kernel on the CPU; its entries are 0 and 1, so every sum it takes is unchanged.

Recorded (wrappers around the official functions, nothing altered): the training order; ``calculate_lr_w``,
``calculate_lr_alpha`` and ``calculate_init_alpha``'s results; the classifier's initial bias (``nn.Linear``'s random
init, which our plugin draws from its own generator); the class multipliers before and after training; every epoch's
validation accuracy (the printed lines); the epoch whose test accuracy ``forward`` returns (the last best-validation
epoch, ``acc_val >= best_acc``) and the test predictions behind it (``test_labels`` records what it is compared with).
"""
import argparse
import importlib
import io
import json
import os
import re
import sys
import tempfile
import types
from contextlib import contextmanager, redirect_stdout

import numpy as np
import scipy
import torch
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from official_side_by_side import commit_of, normalised, read_safetensors, stub_modules  # noqa: E402


def load_lpp(folder):
    """methods/linear_probe_p2.py as methods.linear_probe_p2, its package without __init__ (the other baselines)."""
    package = types.ModuleType("methods")
    package.__path__ = [os.path.join(folder, "methods")]
    sys.modules["methods"] = package
    return importlib.import_module("methods.linear_probe_p2")


class FeatureClip:
    """A stand-in CLIP whose 'images' are already its features (the official code normalises them in place)."""

    dtype = torch.float32

    def encode_image(self, images):
        return images.clone()


class FeatureLoader:
    """A DataLoader over feature rows: (features, labels) batches of 256 in the given order."""

    def __init__(self, features, labels, order, batch=256):
        self.features, self.labels, self.order, self.batch = features, labels, order, batch

    def __iter__(self):
        for start in range(0, len(self.order), self.batch):
            idx = self.order[start:start + self.batch]
            yield self.features[idx], self.labels[idx]

    def __len__(self):
        return (len(self.order) + self.batch - 1) // self.batch


class RecordingLabels(np.ndarray):
    """test_labels.cpu().numpy(): records the predictions each '==' compares it with (every new best epoch)."""
    seen = []

    def __eq__(self, predictions):
        RecordingLabels.seen.append(np.asarray(predictions).astype(int).tolist())
        return np.asarray(self) == np.asarray(predictions)


class TestLabels:
    def __init__(self, labels):
        self.array = labels.view(RecordingLabels)

    def cpu(self):
        return self

    def numpy(self):
        return self.array


@contextmanager
def recorded(lpp):
    """Wraps the official helpers (and nn.Linear, Variable) to record their results; restores them afterwards."""
    record = {}
    utils = sys.modules["methods.utils"]
    originals = {name: getattr(lpp, name) for name in ("calculate_lr_w", "calculate_init_alpha", "calculate_lr_alpha", "Variable")}
    official_one_hot, official_linear = utils.get_one_hot, torch.nn.Linear

    def wrap(name):
        def call(*args, **kwargs):
            out = originals[name](*args, **kwargs)
            record[name] = out
            return out
        return call

    class RecordingLinear(official_linear):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            record["initial_bias"] = self.bias.detach().clone()

    for name in originals:
        setattr(lpp, name, wrap(name))
    utils.get_one_hot = lambda y_s, num_classes: official_one_hot(y_s, num_classes).float()
    torch.nn.Linear = RecordingLinear
    try:
        yield record
    finally:
        for name, f in originals.items():
            setattr(lpp, name, f)
        utils.get_one_hot = official_one_hot
        torch.nn.Linear = official_linear


def run_cell(lpp, cell, meta, epochs):
    shots, seed = int(meta["shots"]), int(meta["seed"])
    views = torch.from_numpy(cell["train_views"][0].astype(np.float32))
    labels = torch.from_numpy(cell["train_labels"])
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    val = torch.from_numpy(cell["val_features"].astype(np.float32))
    val_labels = torch.from_numpy(cell["val_labels"])
    weights = torch.from_numpy(cell["text_weights"]).t().contiguous()
    RecordingLabels.seen = []
    with tempfile.TemporaryDirectory() as out_dir, recorded(lpp) as record, redirect_stdout(io.StringIO()) as log:
        method = lpp.LinearProbe_P2({"train_epoch": epochs, "shots": shots, "dataset": meta["dataset"], "output_dir": out_dir})
        torch.manual_seed(seed)
        loss, acc_test = method(train_loader=FeatureLoader(views, labels, order),
                                val_loader=FeatureLoader(val, val_labels, torch.arange(len(val_labels))),
                                test_features=normalised(cell, "test_features"),
                                test_labels=TestLabels(cell["test_labels"]),
                                text_weights=weights, model=FeatureClip(), classnames=json.loads(meta["classnames"]))
    lines = log.getvalue().splitlines()
    val_acc = [float(l.split()[-1]) for l in lines if l.startswith("The accuracy for val data is")]
    epoch, best_epoch = -1, None
    for line in lines:
        if line.startswith("Running model for epoch:"):
            epoch = int(line.split()[-1])
        elif line.startswith("The accuracy for test data is"):
            best_epoch = epoch
    assert len(val_acc) == epochs, f"expected {epochs} validation lines, saw {len(val_acc)}"
    predictions = RecordingLabels.seen[-1]
    assert abs(100.0 * np.mean(np.asarray(predictions) == cell["test_labels"]) - acc_test) < 1e-9
    alpha = record["Variable"]
    return {
        "train_order": order.tolist(),
        "lr_w": float(record["calculate_lr_w"]),
        "lr_alpha": float(record["calculate_lr_alpha"]),
        "init_alpha": float(record["calculate_init_alpha"]),
        "initial_bias": record["initial_bias"].tolist(),
        "final_alpha": alpha.detach()[0].tolist(),
        "val_accuracy": val_acc,
        "best_epoch": best_epoch,
        "final_loss": loss,
        "test_accuracy": acc_test,
        "test_predictions": predictions,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lpp", required=True, help="checkout of FereshteShakeri/FewShot-CLIP-Strong-Baseline")
    parser.add_argument("--out", required=True, help="the JSON fixture to write")
    parser.add_argument("cells", nargs="+", help="cells written by official_side_by_side.py")
    args = parser.parse_args()

    torch.set_num_threads(1)
    stub_modules()
    folder = os.path.abspath(args.lpp)
    lpp = load_lpp(folder)
    with open(os.path.join(folder, "configs", "base.yaml")) as f:
        epochs = int(yaml.safe_load(f)["train_epoch"])
    result = {
        "generator": "tools/reference/official_lpp.py",
        "official": commit_of(folder),
        "versions": {"torch": torch.__version__, "numpy": np.__version__, "scipy": scipy.__version__},
        "train_epoch": epochs,
        "cells": [],
    }
    for path in args.cells:
        cell, meta = read_safetensors(path)
        name = os.path.basename(path)
        print(f"{name}: LP++ ...", flush=True)
        entry = {"file": name, "dataset": meta["dataset"], "shots": int(meta["shots"]), "seed": int(meta["seed"])}
        entry.update(run_cell(lpp, cell, meta, epochs))
        result["cells"].append(entry)
        print(f"{name}: best epoch {entry['best_epoch']}, test accuracy {entry['test_accuracy']:.2f}%", flush=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
