#!/usr/bin/env python3
"""Run the *official* TaskRes trainer on the cells of ``tests/Peft.Tests/Fixtures/official`` and record its training
trace and test predictions, as the fixture ``taskres.json`` for ``tests/Peft.Tests/Methods/TaskResOfficialTests.cs``.

Checkouts (not part of this repository; the commits of the committed fixture are recorded in the output)::

    git clone https://github.com/geekyutao/TaskRes          # 5195359661d6bef661090c33b81aacfc7d7cc181
    git clone https://github.com/KaiyangZhou/Dassl.pytorch  # c61a1b570ac6333bd50fb5ae06aea59002fb20bb
    /usr/bin/python3 tools/reference/official_taskres.py --taskres TaskRes --dassl Dassl.pytorch \\
        --clip data/models/tiny-clip.safetensors --out tests/Peft.Tests/Fixtures/official \\
        tests/Peft.Tests/Fixtures/official/*.safetensors

What runs unmodified: TaskRes's ``trainers/taskres.py`` (``TaskResLearner``, ``CustomCLIP.forward``,
``TaskRes.forward_backward``), Dassl's ``TrainerX.run_epoch`` / ``SimpleTrainer`` update and learning-rate code,
``build_optimizer``, ``build_lr_scheduler`` and its defaults (``dassl/config/defaults.py``) merged with the TaskRes
config that ``train_regular.sh`` names for the shot count (``adam_lr2e-3_B256_ep100`` up to 4 shots, ``_ep200``
above), residual scale 0.5. Stand-ins: the image encoder is the identity on the cell's cached features (epoch e
trains on augmented view e mod 10, as the project does); the base text features are the official
``torch.stack(text_embeddings).mean(1)`` of the exported unnormalised text features of the dataset's template (the
tiny CLIP's text tower is the project's, in C#); ``logit_scale`` is the tiny CLIP checkpoint's; the RandomSampler's
order is ``torch.randperm(n, generator)`` with a generator seeded 1, one draw per epoch (recorded, so the C# side can
check it draws the same); Dassl's data manager, tensorboard writer, tqdm and CLIP's package are empty modules.
Recorded per cell: the first two epochs' orders and a SHA-256 of all, mean loss and learning rate, and the test predictions of the last epoch (Dassl
TEST.FINAL_MODEL last_step).
"""
import argparse
import hashlib
import ast
import importlib
import io
import json
import math
import os
import sys
import types
from contextlib import redirect_stdout

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from official_side_by_side import commit_of, read_safetensors, stub_modules  # noqa: E402


class CN(dict):
    """yacs' CfgNode as far as dassl/config/defaults.py and build_optimizer use it: a dict with attribute access."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name)

    def __setattr__(self, name, value):
        self[name] = value

    def merge(self, other):
        """yacs merge_from_file: strings are decoded with literal_eval (YAML reads 1e-5 as a string)."""
        for k, v in other.items():
            if isinstance(v, dict) and isinstance(self.get(k), dict):
                self[k].merge(v)
                continue
            if isinstance(v, str):
                try:
                    v = ast.literal_eval(v)
                except (ValueError, SyntaxError):
                    pass
            self[k] = v


def module(name, **attrs):
    m = types.ModuleType(name)
    m.__dict__.update(attrs)
    sys.modules[name] = m
    return m


def load_dassl(dassl):
    """Dassl's real optim, utils, metrics, config defaults and engine/trainer.py, without its data/modeling packages."""
    import yaml  # noqa: F401  (python3-yaml; the configs are YAML)
    sys.path.insert(0, dassl)
    module("yacs")
    module("yacs.config", CfgNode=CN)
    module("torch.utils.tensorboard", SummaryWriter=None)
    module("dassl.data", DataManager=None)
    module("dassl.modeling", build_head=None, build_backbone=None)
    module("dassl.evaluation", build_evaluator=None)
    engine = module("dassl.engine")
    engine.__path__ = [os.path.join(dassl, "dassl", "engine")]
    build = importlib.import_module("dassl.engine.build")
    trainer = importlib.import_module("dassl.engine.trainer")
    engine.TRAINER_REGISTRY, engine.TrainerX = build.TRAINER_REGISTRY, trainer.TrainerX
    defaults = importlib.import_module("dassl.config.defaults")
    return defaults._C, importlib.import_module("dassl.optim")


def load_taskres(folder):
    clip_pkg = sys.modules["clip"]
    clip_pkg.clip = module("clip.clip")
    sys.path.insert(0, folder)
    return importlib.import_module("trainers.taskres")


def to_cn(d):
    return CN({k: to_cn(v) if isinstance(v, dict) else v for k, v in d.items()})


def config(defaults, taskres, shots, scale):
    import copy
    import yaml
    cfg = copy.deepcopy(defaults)
    name = "adam_lr2e-3_B256_ep100" if shots <= 4 else "adam_lr2e-3_B256_ep200"   # train_regular.sh
    with open(os.path.join(taskres, "configs", "trainers", "TaskRes", name + ".yaml")) as f:
        cfg.merge(to_cn(yaml.safe_load(f)))
    cfg.TRAINER = CN(TaskRes=CN(PREC="fp32", RESIDUAL_SCALE=scale, ENHANCED_BASE="none"))
    return cfg, name


def logit_scale_of(checkpoint):
    tensors, _ = read_safetensors(checkpoint) if checkpoint.endswith(".safetensors") else (None, None)
    return float(tensors["logit_scale"].reshape(-1)[0])


class CellLoader:
    """train_loader_x: each epoch one randperm draw, batches of cached view (epoch mod V), Dassl's drop_last rule."""

    def __init__(self, views, labels, batch, generator):
        self.views, self.labels, self.batch, self.g = views, labels, batch, generator
        self.epoch, self.orders = -1, []

    def __len__(self):
        n = len(self.labels)
        return n // self.batch if n >= self.batch else 1

    def __iter__(self):
        self.epoch += 1
        n = len(self.labels)
        order = torch.randperm(n, generator=self.g)
        self.orders.append(order.tolist())
        x = self.views[self.epoch % self.views.shape[0]]
        size = min(self.batch, n)
        for b in range(len(self)):
            idx = order[b * size:(b + 1) * size]
            yield {"img": x[idx], "label": self.labels[idx]}


def orders_sha256(orders):
    """SHA-256 of every epoch's order as little-endian int64, epoch after epoch."""
    return hashlib.sha256(np.asarray(orders, dtype="<i8").tobytes()).hexdigest()


def run_cell(taskres_module, defaults, optim, taskres_dir, cell, meta, logit_scale, scale=0.5):
    shots = int(meta["shots"])
    cfg, cfg_name = config(defaults, taskres_dir, shots, scale)
    classnames = json.loads(meta["classnames"])
    embeddings = torch.from_numpy(cell["text_embeddings"])                       # [C, T, D] unnormalised
    base = torch.stack([embeddings[c] for c in range(len(classnames))]).mean(1)   # _get_base_text_features

    model = object.__new__(taskres_module.CustomCLIP)
    nn.Module.__init__(model)
    model.image_encoder = nn.Identity()
    model.logit_scale = nn.Parameter(torch.tensor(math.log(logit_scale)), requires_grad=False)
    model.dtype = torch.float32
    fake_clip = types.SimpleNamespace(dtype=torch.float32)
    with redirect_stdout(io.StringIO()):
        model.prompt_learner = taskres_module.TaskResLearner(cfg, classnames, fake_clip, base)
    model = model.float()

    trainer = object.__new__(taskres_module.TaskRes)
    trainer._models, trainer._optims, trainer._scheds, trainer._writer = {}, {}, {}, None
    trainer.cfg, trainer.device, trainer.scaler, trainer.model = cfg, torch.device("cpu"), None, model
    trainer.optim = optim.build_optimizer(model.prompt_learner, cfg.OPTIM)
    trainer.sched = optim.build_lr_scheduler(trainer.optim, cfg.OPTIM)
    trainer.register_model("prompt_learner", model.prompt_learner, trainer.optim, trainer.sched)

    views = torch.from_numpy(cell["train_views"].astype(np.float32))
    labels = torch.from_numpy(cell["train_labels"])
    loader = CellLoader(views, labels, cfg.DATALOADER.TRAIN_X.BATCH_SIZE, torch.Generator().manual_seed(1))
    trainer.train_loader_x, trainer.max_epoch = loader, cfg.OPTIM.MAX_EPOCH
    losses, lrs = [], []
    official_fb = trainer.forward_backward

    def recording_forward_backward(batch):
        lrs_epoch.append(trainer.get_current_lr())
        summary = official_fb(batch)
        losses_epoch.append(summary["loss"])
        return summary

    trainer.forward_backward = recording_forward_backward
    for trainer.epoch in range(trainer.max_epoch):
        losses_epoch, lrs_epoch = [], []
        with redirect_stdout(io.StringIO()):
            trainer.run_epoch()
        losses.append(sum(losses_epoch) / len(losses_epoch))
        lrs.append(lrs_epoch[0])

    model.eval()
    with torch.no_grad():
        test = torch.from_numpy(cell["test_features"].astype(np.float32))
        predictions = model(test).argmax(1).tolist()
        residual = model.prompt_learner.text_feature_residuals.detach()
    return {"config": cfg_name, "scale": scale, "epochs": cfg.OPTIM.MAX_EPOCH, "lr": cfg.OPTIM.LR,
            "weight_decay": cfg.OPTIM.WEIGHT_DECAY, "batch_size": cfg.DATALOADER.TRAIN_X.BATCH_SIZE,
            "first_orders": loader.orders[:2], "orders_sha256": orders_sha256(loader.orders), "epoch_losses": losses, "epoch_lrs": lrs,
            "residual_norm": float(residual.norm()), "test_predictions": predictions}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--taskres", required=True, help="checkout of geekyutao/TaskRes")
    parser.add_argument("--dassl", required=True, help="checkout of KaiyangZhou/Dassl.pytorch")
    parser.add_argument("--clip", required=True, help="the tiny CLIP checkpoint (its logit_scale)")
    parser.add_argument("--out", required=True)
    parser.add_argument("cells", nargs="+")
    args = parser.parse_args()
    torch.set_num_threads(1)

    stub_modules()
    defaults, optim = load_dassl(os.path.abspath(args.dassl))
    taskres = load_taskres(os.path.abspath(args.taskres))
    logit_scale = math.exp(logit_scale_of(args.clip))
    result = {
        "generator": "tools/reference/official_taskres.py",
        "official": {"taskres": commit_of(args.taskres), "dassl": commit_of(args.dassl)},
        "versions": {"torch": torch.__version__, "numpy": np.__version__},
        "logit_scale": logit_scale,
        "cells": [],
    }
    for path in sorted(args.cells):
        cell, meta = read_safetensors(path)
        name = os.path.basename(path)
        print(f"{name}: TaskRes ...", flush=True)
        r = run_cell(taskres, defaults, optim, os.path.abspath(args.taskres), cell, meta, logit_scale)
        acc = float(np.mean(np.asarray(r["test_predictions"]) == cell["test_labels"]))
        print(f"  {r['config']}: final loss {r['epoch_losses'][-1]:.4f}, test {100 * acc:.2f}%", flush=True)
        result["cells"].append({"file": name, "taskres": r})
    with open(os.path.join(args.out, "taskres.json"), "w") as f:
        json.dump(result, f)
        f.write("\n")


if __name__ == "__main__":
    main()
