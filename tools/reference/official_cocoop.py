#!/usr/bin/env python3
"""Run the *official* CoCoOp trainer on the cells of ``tests/Peft.Tests/Fixtures/official`` with the project's tiny CLIP
text tower, and record its initial meta-net, training trace, learned context, the norms of the learned meta-net and the test
predictions, as the fixture
``cocoop.json`` for ``tests/Peft.Tests/Methods/CoCoOpOfficialTests.cs``.

Checkouts and Debian packages as for ``official_coop.py``::

    /usr/bin/python3 tools/reference/official_cocoop.py --coop CoOp --dassl Dassl.pytorch --ftfy python-ftfy \\
        --clip data/models/tiny-clip.safetensors --out tests/Peft.Tests/Fixtures/official \\
        tests/Peft.Tests/Fixtures/official/*.safetensors

What runs unmodified: CoOp's ``trainers/cocoop.py`` (``build_model``, ``PromptLearner`` with its meta-net,
``CustomCLIP.forward`` looping over images, ``forward_backward``) with its CLIP package, and Dassl's ``run_epoch``,
SGD, warm-up/cosine and defaults merged with ``configs/trainers/CoCoOp/vit_b16_c4_ep10_batch1_ctxv1.yaml`` (the
COCOOP.md setting: batch 1, 10 epochs, "a photo of a"), PREC fp32. The stand-ins are those of ``official_kgcoop.py``.
The meta-net's initial weights come from PyTorch's global generator (seeded 1 before ``build_model``); they are
recorded so that the C# side starts from them (the project draws its own from the cell's generator otherwise).
"""
import argparse
import copy
import importlib
import io
import json
import os
import sys
import types
from contextlib import redirect_stdout
from functools import partial

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from official_side_by_side import commit_of, read_safetensors, stub_modules  # noqa: E402
from official_taskres import load_dassl, to_cn  # noqa: E402
import official_kgcoop  # noqa: E402

CONFIG = "vit_b16_c4_ep10_batch1_ctxv1"


def config(defaults, repo, image_size):
    import yaml
    cfg = copy.deepcopy(defaults)
    with open(os.path.join(repo, "configs", "trainers", "CoCoOp", CONFIG + ".yaml")) as f:
        cfg.merge(to_cn(yaml.safe_load(f)))
    cfg.TRAINER.COCOOP.PREC = "fp32"
    cfg.INPUT.SIZE = (image_size, image_size)
    return cfg


def flat(t):
    """float32 values with 9 significant digits: each reads back as the same float32."""
    return [float(f"{x:.9g}") for x in t.detach().flatten().tolist()]


def run_cell(cocoop, defaults, repo, clip_path, cell, meta):
    classnames = json.loads(meta["classnames"])
    model = official_kgcoop.tiny_clip(cocoop, clip_path)
    cocoop.load_clip_to_cpu = lambda cfg: official_kgcoop.tiny_clip(cocoop, clip_path)
    cocoop.clip.tokenize = partial(TOKENIZE, context_length=model.context_length)
    cfg = config(defaults, repo, model.visual.input_resolution)
    trainer = object.__new__(cocoop.CoCoOp)
    trainer._models, trainer._optims, trainer._scheds, trainer._writer = {}, {}, {}, None
    trainer.cfg, trainer.device = cfg, torch.device("cpu")
    trainer.dm = types.SimpleNamespace(dataset=types.SimpleNamespace(classnames=classnames))
    torch.manual_seed(1)
    with redirect_stdout(io.StringIO()):
        trainer.build_model()
    net = trainer.model.prompt_learner.meta_net
    initial = {k: flat(v) for k, v in net.state_dict().items()}
    record = official_kgcoop.train_and_record(trainer, cell)
    final = {k: float(v.double().norm()) for k, v in net.state_dict().items()}
    return {"config": CONFIG, "epochs": cfg.OPTIM.MAX_EPOCH, "lr": cfg.OPTIM.LR,
            "batch_size": cfg.DATALOADER.TRAIN_X.BATCH_SIZE, "initial_meta_net": initial, "final_meta_net_norms": final, **record}


TOKENIZE = None


def main():
    global TOKENIZE
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--coop", required=True, help="checkout of KaiyangZhou/CoOp")
    parser.add_argument("--dassl", required=True, help="checkout of KaiyangZhou/Dassl.pytorch")
    parser.add_argument("--ftfy", required=True, help="checkout of rspeer/python-ftfy")
    parser.add_argument("--clip", required=True, help="the tiny CLIP checkpoint")
    parser.add_argument("--out", required=True)
    parser.add_argument("cells", nargs="+")
    args = parser.parse_args()
    torch.set_num_threads(1)
    stub_modules()
    defaults, _ = load_dassl(os.path.abspath(args.dassl))
    for name in ("clip", "clip.simple_tokenizer"):
        sys.modules.pop(name, None)
    sys.path.insert(0, os.path.abspath(args.ftfy))
    sys.path.insert(0, os.path.abspath(args.coop))
    cocoop = importlib.import_module("trainers.cocoop")
    TOKENIZE = cocoop.clip.tokenize
    result = {"generator": "tools/reference/official_cocoop.py",
              "official": {"coop": commit_of(args.coop), "dassl": commit_of(args.dassl)},
              "versions": {"torch": torch.__version__, "numpy": np.__version__}, "cells": []}
    for path in sorted(args.cells):
        cell, meta = read_safetensors(path)
        name = os.path.basename(path)
        print(f"{name}: CoCoOp ...", flush=True)
        r = run_cell(cocoop, defaults, os.path.abspath(args.coop), os.path.abspath(args.clip), cell, meta)
        acc = float(np.mean(np.asarray(r["test_predictions"]) == cell["test_labels"]))
        print(f"  final loss {r['epoch_losses'][-1]:.4f}, test {100 * acc:.2f}%", flush=True)
        result["cells"].append({"file": name, "cocoop": r})
    with open(os.path.join(args.out, "cocoop.json"), "w") as f:
        json.dump(result, f)
        f.write("\n")


if __name__ == "__main__":
    main()
