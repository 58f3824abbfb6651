#!/usr/bin/env python3
"""Run the *official* CLAP trainer (and its ZS-LP baseline) on the cells of ``tests/Peft.Tests/Fixtures/official`` and
record its multipliers, training trace and test predictions, as the fixture ``clap.json`` for
``tests/Peft.Tests/Methods/ClapOfficialTests.cs``.

Checkouts (not part of this repository; the commits of the committed fixture are recorded in the output)::

    git clone https://github.com/jusiro/CLAP                # dbdf4095b3d824546474c725539b9f4efff3ca0e
    git clone https://github.com/KaiyangZhou/Dassl.pytorch  # c61a1b570ac6333bd50fb5ae06aea59002fb20bb
    /usr/bin/python3 tools/reference/official_clap.py --clap CLAP --dassl Dassl.pytorch \\
        --clip data/models/tiny-clip.safetensors --out tests/Peft.Tests/Fixtures/official \\
        tests/Peft.Tests/Fixtures/official/*.safetensors

What runs unmodified: CLAP's ``trainers/adapters.py`` — ``ADAPTER.train`` (feature extraction of the test set and of
the augmented training passes, ``init_lagrangian_multipliers``, the epoch loop), ``TrainerXCostume.run_epoch`` (one
shuffle of the pooled augmented features per epoch, ``len(train_loader_x)`` batches of 256), ``forward_backward``
(cross-entropy + ``zero_shot_constraint``), ``AdapterMethod``, ``CustomCLIP.forward_lp`` — with Dassl's own
``SimpleTrainer`` (update, scheduler step, checkpointing into a temporary folder), ``build_optimizer`` and
``build_lr_scheduler`` on its defaults merged with ``configs/trainers/SGD_lr1e-1_B256_ep300.yaml`` and the
``TRAINER.ADAPTER`` values of ``train.py``/``scripts/adapt.sh`` (INIT ZS, CONSTRAINT l2 for CLAP and none for ZS-LP).
The gradient freeze, ``model.float()`` and optimiser registration are ``ADAPTER.build_model``'s lines after CLIP is
loaded (that part loads OpenAI weights, so it is not called).

Stand-ins: the image encoder is the identity on the cell's cached features; the training loader yields the cell's
augmented views, pass r = view r, in row order (a SequentialSampler instead of the RandomSampler: the pooled
features are reshuffled every epoch, so the pool's order only names rows), and ``AdapterMethod.epochs_aumentation``
is the cell's 10 views instead of 20; the base text features are ``torch.stack(text_embeddings).mean(1)`` of the
exported unnormalised text features of the dataset's template (the tiny CLIP's text tower is the project's, in C#);
``logit_scale`` is the tiny CLIP checkpoint's; ``np.random.rand(P).argsort()``, the epoch's shuffle, is driven by
``torch.randperm(P, generator)`` with a generator seeded 1 (``rand`` returns ranks whose argsort is that
permutation), so that the C# side can draw the same orders; Dassl's data manager, tensorboard writer, tqdm and CLIP's
package are empty modules. Recorded per cell and variant: the initial Lagrangian multipliers, the first two epochs'
orders and a SHA-256 of all, each epoch's mean loss and learning rate, and the test predictions of the last epoch.
"""
import argparse
import copy
import importlib
import io
import json
import math
import os
import sys
import tempfile
import types
from contextlib import contextmanager, redirect_stdout

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from official_side_by_side import commit_of, read_safetensors, stub_modules  # noqa: E402
from official_taskres import load_dassl, logit_scale_of, orders_sha256, to_cn  # noqa: E402

CONFIG = "SGD_lr1e-1_B256_ep300"   # scripts/adapt.sh / experiments/experiment_CLAP.txt


class NullWriter:
    """tensorboard's SummaryWriter as Dassl's trainer uses it."""

    def __init__(self, *a, **k):
        pass

    def add_scalar(self, *a, **k):
        pass

    def close(self):
        pass


def load_clap(folder):
    """trainers/adapters.py with its real datasets/imagenet_templates.py; clip.clip is an empty module."""
    engine = sys.modules["dassl.engine"]
    trainer = sys.modules["dassl.engine.trainer"]
    engine.SimpleTrainer = trainer.SimpleTrainer
    trainer.SummaryWriter = NullWriter
    clip_pkg = sys.modules["clip"]
    clip_pkg.clip = types.ModuleType("clip.clip")
    sys.modules["clip.clip"] = clip_pkg.clip
    sys.modules["datasets"].__path__ = [os.path.join(folder, "datasets")]
    sys.path.insert(0, folder)
    return importlib.import_module("trainers.adapters")


def config(defaults, clap_dir, constraint, output_dir):
    import yaml
    cfg = copy.deepcopy(defaults)
    with open(os.path.join(clap_dir, "configs", "trainers", CONFIG + ".yaml")) as f:
        cfg.merge(to_cn(yaml.safe_load(f)))
    # train.py extend_cfg defaults; adapt.sh sets INIT and CONSTRAINT
    cfg.TRAINER = to_cn({"ADAPTER": {"INIT": "ZS", "CONSTRAINT": constraint, "ENHANCED_BASE": "none", "PREC": "fp16"}})
    cfg.DATALOADER.TRAIN_X.SAMPLER = "RandomSampler"   # train.py setup_cfg for a non-TipA init
    cfg.OUTPUT_DIR = output_dir
    return cfg


class ViewPasses(torch.utils.data.Dataset):
    """The training set as the augmented loader sees it: the r-th pass over the rows reads cached view r."""

    def __init__(self, views, labels):
        self.views, self.labels, self.reads = views, labels, 0

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        view = self.reads // len(self.labels)
        self.reads += 1
        return {"img": self.views[view][i], "label": self.labels[i]}


class Rows(torch.utils.data.Dataset):
    def __init__(self, features, labels):
        self.features, self.labels = features, labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return {"img": self.features[i], "label": self.labels[i]}


@contextmanager
def shuffles_from(generator, orders):
    """np.random.rand(P) (whose argsort is run_epoch's shuffle) returns ranks of torch.randperm(P, generator)."""
    official = np.random.rand

    def rand(n):
        perm = torch.randperm(n, generator=generator).numpy()
        orders.append(perm.tolist())
        ranks = np.empty(n)
        ranks[perm] = np.arange(n)
        return ranks

    np.random.rand = rand
    try:
        yield
    finally:
        np.random.rand = official


def run_cell(adapters, defaults, optim, clap_dir, cell, meta, log_logit_scale, constraint):
    classnames = json.loads(meta["classnames"])
    embeddings = torch.from_numpy(cell["text_embeddings"])                       # [C, T, D] unnormalised
    base = torch.stack([embeddings[c] for c in range(len(classnames))]).mean(1)   # _get_base_text_features
    views = torch.from_numpy(cell["train_views"].astype(np.float32))
    labels = torch.from_numpy(cell["train_labels"])
    test = torch.from_numpy(cell["test_features"].astype(np.float32))
    test_labels = torch.from_numpy(cell["test_labels"])

    with tempfile.TemporaryDirectory() as out, redirect_stdout(io.StringIO()):
        cfg = config(defaults, clap_dir, constraint, out)
        logit_scale = nn.Parameter(torch.tensor(log_logit_scale, dtype=torch.float32))
        fake_clip = types.SimpleNamespace(dtype=torch.float32, logit_scale=logit_scale)

        # CustomCLIP.__init__ with the identity as image encoder (attribute order as the official: logit_scale is
        # the root's parameter, so build_model's freeze reaches it before adapter.logit_scale)
        model = object.__new__(adapters.CustomCLIP)
        nn.Module.__init__(model)
        model.image_encoder = nn.Identity()
        model.logit_scale = logit_scale
        model.dtype = torch.float32
        model.text_embeddings_all = embeddings
        model.adapter = adapters.AdapterMethod(cfg, fake_clip, base)
        model.adapter.epochs_aumentation = views.shape[0]

        trainer = object.__new__(adapters.ADAPTER)
        trainer._models, trainer._optims, trainer._scheds, trainer._writer = {}, {}, {}, None
        trainer.cfg, trainer.device, trainer.model = cfg, torch.device("cpu"), model
        trainer.start_epoch = trainer.epoch = 0
        trainer.max_epoch, trainer.output_dir, trainer.best_result = cfg.OPTIM.MAX_EPOCH, out, -np.inf
        # ADAPTER.build_model after load_clip_to_cpu / CustomCLIP:
        for name, param in trainer.model.named_parameters():
            if "adapter" not in name:
                param.requires_grad_(False)
        trainer.model.to(trainer.device)
        trainer.model = trainer.model.float()
        trainer.optim = optim.build_optimizer(trainer.model.adapter, cfg.OPTIM)
        trainer.sched = optim.build_lr_scheduler(trainer.optim, cfg.OPTIM)
        trainer.register_model("adapter", trainer.model.adapter, trainer.optim, trainer.sched)
        trainer.scaler = None

        batch = cfg.DATALOADER.TRAIN_X.BATCH_SIZE
        n = len(labels)
        trainer.train_loader_x = torch.utils.data.DataLoader(   # Dassl build_data_loader's drop_last rule
            ViewPasses(views, labels), batch_size=batch, sampler=torch.utils.data.SequentialSampler(range(n)),
            drop_last=n >= batch)
        trainer.test_loader = torch.utils.data.DataLoader(Rows(test, test_labels), batch_size=cfg.DATALOADER.TEST.BATCH_SIZE)

        losses, lrs, epoch_losses = [], [], []
        official_fb = trainer.forward_backward

        def recording_forward_backward(features, batch_labels):
            if trainer.batch_idx == 0:
                lrs.append(trainer.get_current_lr())
                epoch_losses.clear()
            summary = official_fb(features, batch_labels)
            epoch_losses.append(summary["loss"])
            if trainer.batch_idx + 1 == trainer.num_batches:
                losses.append(sum(epoch_losses) / len(epoch_losses))
            return summary

        trainer.forward_backward = recording_forward_backward
        orders = []
        with shuffles_from(torch.Generator().manual_seed(1), orders):
            trainer.train()

    adapter = trainer.model.adapter
    assert trainer.features_train.shape[0] == views.shape[0] * n and len(orders) == cfg.OPTIM.MAX_EPOCH
    assert torch.equal(trainer.features_train, views.reshape(-1, views.shape[-1])), "pool must be view-major"
    with torch.no_grad():
        predictions = trainer.model.forward_features(test).argmax(1).tolist()
        distance = (adapter.prototypes - adapter.base_text_features).pow(2).sum(-1)
    return {
        "config": CONFIG, "constraint": constraint, "epochs": cfg.OPTIM.MAX_EPOCH, "lr": cfg.OPTIM.LR,
        "momentum": cfg.OPTIM.MOMENTUM, "weight_decay": cfg.OPTIM.WEIGHT_DECAY, "batch_size": batch,
        "warmup_epochs": cfg.OPTIM.WARMUP_EPOCH, "warmup_lr": cfg.OPTIM.WARMUP_CONS_LR,
        "augment_passes": int(views.shape[0]), "batches_per_epoch": trainer.num_batches,
        "multipliers": adapter.alpha_constraint.tolist() if constraint != "none" else None,
        "first_orders": orders[:2], "orders_sha256": orders_sha256(orders),
        "epoch_losses": losses, "epoch_lrs": lrs,
        "distance_to_zero_shot": distance.tolist(),
        "test_predictions": predictions,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clap", required=True, help="checkout of jusiro/CLAP")
    parser.add_argument("--dassl", required=True, help="checkout of KaiyangZhou/Dassl.pytorch")
    parser.add_argument("--clip", required=True, help="the tiny CLIP checkpoint (its logit_scale)")
    parser.add_argument("--out", required=True)
    parser.add_argument("cells", nargs="+")
    args = parser.parse_args()
    torch.set_num_threads(1)

    stub_modules()
    defaults, optim = load_dassl(os.path.abspath(args.dassl))
    adapters = load_clap(os.path.abspath(args.clap))
    log_logit_scale = logit_scale_of(args.clip)
    result = {
        "generator": "tools/reference/official_clap.py",
        "official": {"clap": commit_of(args.clap), "dassl": commit_of(args.dassl)},
        "versions": {"torch": torch.__version__, "numpy": np.__version__},
        "logit_scale": math.exp(log_logit_scale),
        "cells": [],
    }
    for path in sorted(args.cells):
        cell, meta = read_safetensors(path)
        name = os.path.basename(path)
        entry = {"file": name}
        for key, constraint in (("clap", "l2"), ("zslp", "none")):
            print(f"{name}: {key} ...", flush=True)
            r = run_cell(adapters, defaults, optim, os.path.abspath(args.clap), cell, meta, log_logit_scale, constraint)
            acc = float(np.mean(np.asarray(r["test_predictions"]) == cell["test_labels"]))
            print(f"  final loss {r['epoch_losses'][-1]:.4f}, test {100 * acc:.2f}%", flush=True)
            entry[key] = r
        result["cells"].append(entry)
    with open(os.path.join(args.out, "clap.json"), "w") as f:
        json.dump(result, f)
        f.write("\n")


if __name__ == "__main__":
    main()
