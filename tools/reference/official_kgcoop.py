#!/usr/bin/env python3
"""Run the *official* KgCoOp trainer on the cells of ``tests/Peft.Tests/Fixtures/official`` with the project's tiny
CLIP text tower, and record its training trace and test predictions, as the fixture ``kgcoop.json`` for
``tests/Peft.Tests/Methods/KgCoOpOfficialTests.cs``.

Checkouts (not part of this repository; commits recorded in the output)::

    git clone https://github.com/htyao89/KgCoOp          # c43ccc32c8739f64b165cfa205fcc6c0f5bb5b17 (ships its Dassl)
    git clone https://github.com/rspeer/python-ftfy      # CLIP's tokenizer imports ftfy (pure Python)
    apt install python3-regex python3-wcwidth
    /usr/bin/python3 tools/reference/official_kgcoop.py --kgcoop KgCoOp --ftfy python-ftfy \\
        --clip data/models/tiny-clip.safetensors --out tests/Peft.Tests/Fixtures/official \\
        tests/Peft.Tests/Fixtures/official/*.safetensors

What runs unmodified: KgCoOp's ``KgCoOp/trainers/kgcoop.py`` (``build_model``, ``PromptLearner``, ``TextEncoder``,
``CustomCLIP.forward``, ``forward_backward``), its own CLIP package (``build_model``, ``tokenize``, the BPE
tokenizer), and its Dassl (``Dassl.ProGrad.pytorch``: ``TrainerX.run_epoch``, the SGD optimiser and warm-up/cosine
scheduler builders, the config defaults) merged with ``configs/trainers/KgCoOp/rn50_ep100.yaml`` and the values of
``scripts/run.sh`` / ``base2new_train.sh`` (W 8.0, N_CTX 4, CSC False, end). Stand-ins, each because the tiny CLIP is
not OpenAI's: ``load_clip_to_cpu`` returns the tiny CLIP (``clip.build_model`` on ``data/models/tiny-clip.safetensors``,
in fp32: PREC fp32); ``clip.tokenize`` pads to the tiny model's 32 tokens instead of 77; ``INPUT.SIZE`` is its 64 px;
``CUSTOM_TEMPLATES`` gains the synthetic datasets' template; the image encoder is the identity on the cell's cached
features (epoch e trains on augmented view e mod 10, as the project does); the RandomSampler's order is
``torch.randperm(n, generator)`` with a generator seeded 1, one draw per epoch. Dassl's data manager, tensorboard,
tqdm and torchvision are empty modules. Recorded per cell: a SHA-256 of every epoch's order, each epoch's mean loss
and learning rate, and the test predictions after the last epoch (Dassl TEST.FINAL_MODEL last_step).
"""
import argparse
import copy
import importlib
import io
import json
import math
import os
import sys
import types
from contextlib import redirect_stdout
from functools import partial

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from official_side_by_side import commit_of, read_safetensors, stub_modules  # noqa: E402
from official_taskres import CellLoader, load_dassl, orders_sha256, to_cn  # noqa: E402

# scripts/run.sh (base2new_train.sh <dataset> 8.0) and base2new_train.sh (NCTX=4, CSC=False, CTP=end)
SCRIPT = {"W": 8.0, "N_CTX": 4, "CSC": False, "CLASS_TOKEN_POSITION": "end"}


def load_kgcoop(repo, ftfy):
    """KgCoOp's own clip package (instead of the shared stub) and trainer, its folder first on sys.path."""
    for name in ("clip", "clip.simple_tokenizer"):
        sys.modules.pop(name, None)
    sys.path.insert(0, ftfy)
    sys.path.insert(0, os.path.join(repo, "KgCoOp"))
    return importlib.import_module("trainers.kgcoop")


def tiny_clip(kgcoop, checkpoint):
    tensors, _ = read_safetensors(checkpoint)
    state = {k: torch.from_numpy(v.astype(np.float32)) for k, v in tensors.items()}
    return kgcoop.clip.build_model(state).float().eval()


def config(defaults, repo, dataset, image_size):
    import yaml
    cfg = copy.deepcopy(defaults)
    with open(os.path.join(repo, "KgCoOp", "configs", "trainers", "KgCoOp", "rn50_ep100.yaml")) as f:
        cfg.merge(to_cn(yaml.safe_load(f)))
    # train.py extend_cfg defaults, then the scripts' command-line values
    cfg.TRAINER.COOP = to_cn({"ALPHA": 1.0, "N_CTX": 16, "CSC": False, "CTX_INIT": True, "W": 1.0, "PREC": "fp32",
                              "CLASS_TOKEN_POSITION": "end"})
    cfg.TRAINER.COOP.merge(to_cn(SCRIPT))
    cfg.TRAINER.COCOOP = to_cn({"N_CTX": 16, "CTX_INIT": False, "PREC": "fp32"})
    cfg.DATASET.NAME = dataset
    cfg.INPUT.SIZE = (image_size, image_size)
    return cfg


def run_cell(kgcoop, defaults, repo, clip_path, cell, meta):
    dataset = meta["dataset"]
    classnames = json.loads(meta["classnames"])
    kgcoop.CUSTOM_TEMPLATES[dataset] = json.loads(meta["templates"])[0]
    model = tiny_clip(kgcoop, clip_path)
    kgcoop.load_clip_to_cpu = lambda cfg: tiny_clip(kgcoop, clip_path)
    kgcoop.clip.tokenize = partial(TOKENIZE, context_length=model.context_length)
    cfg = config(defaults, repo, dataset, model.visual.input_resolution)

    trainer = object.__new__(kgcoop.KgCoOp)
    trainer._models, trainer._optims, trainer._scheds, trainer._writer = {}, {}, {}, None
    trainer.cfg, trainer.device = cfg, torch.device("cpu")
    trainer.dm = types.SimpleNamespace(dataset=types.SimpleNamespace(classnames=classnames))
    with redirect_stdout(io.StringIO()):
        trainer.build_model()

    record = train_and_record(trainer, cell)
    return {"epochs": cfg.OPTIM.MAX_EPOCH, "lr": cfg.OPTIM.LR, "batch_size": cfg.DATALOADER.TRAIN_X.BATCH_SIZE,
            "weight": cfg.TRAINER.COOP.W, **record}


def train_and_record(trainer, cell):
    """Dassl's TrainerX.run_epoch for MAX_EPOCH epochs on the cell's views (the trainer built by its own build_model, its
    image encoder the identity); returns the orders, each epoch's mean loss and lr, the context and test predictions."""
    cfg = trainer.cfg
    trainer.model.image_encoder = nn.Identity()
    views = torch.from_numpy(cell["train_views"].astype(np.float32))
    labels = torch.from_numpy(cell["train_labels"])
    loader = CellLoader(views, labels, cfg.DATALOADER.TRAIN_X.BATCH_SIZE, torch.Generator().manual_seed(1))
    trainer.train_loader_x, trainer.max_epoch = loader, cfg.OPTIM.MAX_EPOCH
    official_fb = trainer.forward_backward
    losses, lrs = [], []

    def recording(batch):
        epoch_lrs.append(trainer.get_current_lr())
        summary = official_fb(batch)
        epoch_losses.append(summary["loss"])
        return summary

    trainer.forward_backward = recording
    for trainer.epoch in range(trainer.max_epoch):
        epoch_losses, epoch_lrs = [], []
        with redirect_stdout(io.StringIO()):
            trainer.run_epoch()
        losses.append(sum(epoch_losses) / len(epoch_losses))
        lrs.append(epoch_lrs[0])

    trainer.model.eval()
    with torch.no_grad():
        test = torch.from_numpy(cell["test_features"].astype(np.float32))
        predictions = trainer.model_inference(test).argmax(1).tolist()
        ctx = trainer.model.prompt_learner.ctx.detach()
    return {"n_ctx": int(ctx.shape[-2]), "first_orders": loader.orders[:2], "orders_sha256": orders_sha256(loader.orders),
            "epoch_losses": losses, "epoch_lrs": lrs, "ctx": ctx.flatten().tolist(), "test_predictions": predictions}


TOKENIZE = None


def main():
    global TOKENIZE
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kgcoop", required=True, help="checkout of htyao89/KgCoOp")
    parser.add_argument("--ftfy", required=True, help="checkout of rspeer/python-ftfy")
    parser.add_argument("--clip", required=True, help="the tiny CLIP checkpoint")
    parser.add_argument("--out", required=True)
    parser.add_argument("cells", nargs="+")
    args = parser.parse_args()
    torch.set_num_threads(1)
    repo = os.path.abspath(args.kgcoop)
    stub_modules()
    defaults, _ = load_dassl(os.path.join(repo, "Dassl.ProGrad.pytorch"))
    kgcoop = load_kgcoop(repo, os.path.abspath(args.ftfy))
    TOKENIZE = kgcoop.clip.tokenize
    result = {
        "generator": "tools/reference/official_kgcoop.py",
        "official": {"kgcoop": commit_of(args.kgcoop)},
        "versions": {"torch": torch.__version__, "numpy": np.__version__},
        "cells": [],
    }
    for path in sorted(args.cells):
        cell, meta = read_safetensors(path)
        name = os.path.basename(path)
        print(f"{name}: KgCoOp ...", flush=True)
        r = run_cell(kgcoop, defaults, repo, os.path.abspath(args.clip), cell, meta)
        acc = float(np.mean(np.asarray(r["test_predictions"]) == cell["test_labels"]))
        print(f"  final loss {r['epoch_losses'][-1]:.4f}, test {100 * acc:.2f}%", flush=True)
        result["cells"].append({"file": name, "kgcoop": r})
    with open(os.path.join(args.out, "kgcoop.json"), "w") as f:
        json.dump(result, f)
        f.write("\n")


if __name__ == "__main__":
    main()
