#!/usr/bin/env python3
"""Run the *official* cross-modal linear probe (Lin et al., CVPR 2023) on the cells of
``tests/Peft.Tests/Fixtures/official`` and record its grid, chosen iterations, training trace and test predictions, as
the fixture ``crossmodal.json`` for ``tests/Peft.Tests/Methods/CrossModalOfficialTests.cs``.

Checkout (not part of this repository; the commit of the committed fixture is recorded in the output)::

    git clone https://github.com/linzhiqiu/cross_modal_adaptation   # ac9077e
    /usr/bin/python3 tools/reference/official_crossmodal.py --official cross_modal_adaptation [--commit ac9077e] \\
        [--iters 12800] --out tests/Peft.Tests/Fixtures/official tests/Peft.Tests/Fixtures/official/*.safetensors

What runs unmodified (imported from the checkout): ``train.py``'s ``train`` (the iteration loop: both loaders restarted
when exhausted, ``torch.cat([image_feature, text_feature])``, forward, loss, ``optimizer.step()``, ``scheduler.step()``,
validation every ``EVAL_FREQ`` = 100 iterations keeping the first best head, reloading it), ``validate``,
``get_valid_batch_sizes``, ``get_eval_heads`` / ``get_wiseft`` (the test heads ``head`` and ``head_wiseft_0.5``) and
``CROSS_MODAL_BATCH_RATIO``; ``engine/model/logit.py`` ``LogitHead``; ``engine/model/head.py`` ``make_classifier_head``
and ``get_zero_shot_weights``; ``engine/optimizer/default.py`` ``HYPER_DICT['linear']``, ``optim.py``
``build_optimizer`` (AdamW) and ``scheduler.py`` ``build_lr_scheduler`` (LinearWarmupScheduler around
CosineAnnealingLR); ``engine/datasets/utils.py`` ``TensorDataset`` / ``TextTensorDataset``; ``engine/clip/partial_model.py``
``PartialResNet`` / ``PartialTransformer`` built as ``get_split_resnet`` / ``get_split_transformer`` build them for
layer index 0 (``linear_probe.sh``: IMAGE_LAYER_IDX 0, TEXT_LAYER_IDX 0), i.e. the identity on cached features; and
``eval.py``'s ``take_average`` to choose the grid point. The loop over the grid is ``train.py main``'s (lr, weight decay,
valid batch size, iterations), with the settings of ``linear_probe.sh`` (cross_modal, linear head, random init,
logit 4.60517, hyperparams linear, hand_crafted text, flip image augmentation with 1 view).

Stand-ins, each where the official code cannot run as is here:

- CUDA -> CPU: ``Tensor.cuda`` / ``Module.cuda`` are the identity (``LogitHead.__init__`` calls ``.cuda()``), and
  ``train`` / ``validate`` / ``get_zero_shot_weights`` get ``device="cpu"`` (their own parameter).
- Features: the cell's exported features instead of ``features.py``'s files. Text: ``text_embeddings`` [C, T, D] (the
  tiny CLIP's unnormalised text features of the dataset's template, as ``extract_text_features`` orders them: class by
  class, template by template); ``eot_indices`` are zeros (never read at text layer 0). Image: ``train_features`` as the
  centre-crop features and the cell's augmented view 0 as the stand-in for the "flip" view (the cells hold no mirrored
  centre crops; the C# side gets the same tensor as its one training view); ``val_features``; ``test_features``.
- Head: ``make_classifier_head`` hard-codes the feature size of RN50 (1024) and ViT-B/16 (512), and the tiny CLIP's is
  128, so its linear branch is written out — ``nn.Linear(D, C, bias=False)`` — after checking that the official call
  (with RN50) gives an ``nn.Linear`` without bias and C outputs. Its weight, which nn.Linear draws from the global
  generator (kaiming_uniform_(a=sqrt 5), i.e. U(-1/sqrt D, 1/sqrt D)), is redrawn as ``uniform_(-1/sqrt D, 1/sqrt D)``
  from the cell's generator (a ``torch.Generator`` seeded 1), so that the C# side draws the same weights.
- Loader orders: ``DataLoader(..., shuffle=True, drop_last=True)`` draws its permutations from the global generator
  (RandomSampler seeds a fresh generator per pass from it). Here each loader is ``DataLoader(..., sampler=S,
  drop_last=True)`` where S yields ``torch.randperm(n, generator)`` per pass from the same cell generator (lazily, at
  the pass's first batch, as RandomSampler does), so both sides take the same batches; ``num_workers`` 0 and no
  ``pin_memory`` (CPU).
- ``torch.set_num_threads(1)`` after import (train.py sets 4); tqdm, torchvision (imported, unused here),
  ``engine/clip/clip.py`` and its tokenizer are empty modules.
- The loss is recorded by a wrapper around ``nn.CrossEntropyLoss`` (the ``criterion`` argument of ``train``) that also
  reads the learning rate of the iteration from the optimiser.

Recorded per cell: the valid batch sizes; per grid point (in the official loop order) lr, weight decay, batch size, the
chosen iteration and its validation accuracy, test accuracy of ``head``, a SHA-256 of the initial weights (float32
little-endian) and their first values, a SHA-256 of every drawn permutation (int64 little-endian, in draw order) with
their count and the first one's head, and the loss and learning rate at a few iterations; the grid point eval.py
chooses, and the test predictions of its ``head`` and ``head_wiseft_0.5``.
"""
import argparse
import hashlib
import importlib
import io
import json
import math
import os
import sys
import types
from contextlib import redirect_stdout
from copy import deepcopy

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from official_side_by_side import commit_of, read_safetensors  # noqa: E402

LOGIT = 4.60517          # linear_probe.sh LOGITS
SEED = 1                 # the C# test's cell generator


def stub_imports():
    """Empty modules for imports of the official files that the functions run here never use."""
    def module(name, **attrs):
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        sys.modules[name] = m
        return m

    class Any:
        def __init__(self, *a, **k):
            pass

    module("tqdm", tqdm=lambda iterable, *a, **k: iterable)
    tv = module("torchvision")
    tv.transforms = module("torchvision.transforms", Resize=Any, Compose=Any, ToTensor=Any, Normalize=Any, CenterCrop=Any,
                           RandomCrop=Any, RandomResizedCrop=Any, RandomHorizontalFlip=Any)
    tv.transforms.functional = module("torchvision.transforms.functional",
                                      InterpolationMode=types.SimpleNamespace(BILINEAR=2, BICUBIC=3, NEAREST=0))
    tv.datasets = module("torchvision.datasets")
    tv.datasets.folder = module("torchvision.datasets.folder", default_loader=None)
    # engine/clip/clip.py loads CLIP checkpoints and tokenizes; nothing of it runs on cached features.
    module("engine.clip.clip")
    torch.Tensor.cuda = lambda self, *a, **k: self
    torch.nn.Module.cuda = lambda self, *a, **k: self


def load_official(folder):
    sys.path.insert(0, folder)
    with redirect_stdout(io.StringIO()):
        train = importlib.import_module("train")
        evaluation = importlib.import_module("eval")
    from engine.model import head, logit
    from engine.optimizer import default, optim, scheduler
    from engine.datasets import utils as data_utils
    from engine.clip import partial_model
    return types.SimpleNamespace(train=train, eval=evaluation, head=head, logit=logit, default=default, optim=optim,
                                 scheduler=scheduler, data=data_utils, partial=partial_model)


class Permutations(torch.utils.data.Sampler):
    """RandomSampler's order (one permutation per pass, drawn when the pass starts) from a given generator."""

    def __init__(self, n, generator, drawn):
        self.n, self.generator, self.drawn = n, generator, drawn

    def __iter__(self):
        perm = torch.randperm(self.n, generator=self.generator)
        self.drawn.append(perm.numpy().astype("<i8"))
        yield from perm.tolist()

    def __len__(self):
        return self.n


class RecordingLoss(nn.Module):
    """nn.CrossEntropyLoss, recording every loss with the learning rate the optimiser holds for the iteration."""

    def __init__(self):
        super().__init__()
        self.inner = nn.CrossEntropyLoss()
        self.optimizer = None
        self.losses, self.lrs = [], []

    def forward(self, logits, labels):
        loss = self.inner(logits, labels)
        self.losses.append(loss.item())
        self.lrs.append(self.optimizer.param_groups[0]["lr"])
        return loss


def sha256(arrays):
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def checkpoints(iters):
    points = {0, 1, 2, 49, 50, 51, 99, 100, iters - 1} | {k * iters // 8 for k in range(8)}
    return sorted(p for p in points if 0 <= p < iters)


def run_cell(off, cell, meta, iters, modality):
    hyper = off.default.HYPER_DICT["linear"]
    emb = torch.from_numpy(cell["text_embeddings"].astype(np.float32))          # [C, T, D] unnormalised
    C, T, D = emb.shape
    text_dataset = off.data.TextTensorDataset(emb.reshape(C * T, D), torch.arange(C).repeat_interleave(T),
                                              torch.zeros(C * T, dtype=torch.long))
    labels = torch.from_numpy(cell["train_labels"])
    ccrop = torch.from_numpy(cell["train_features"].astype(np.float32))
    flip = torch.from_numpy(cell["train_views"][0].astype(np.float32))          # stand-in for the "flip" view
    image_train_dataset = off.data.TensorDataset(torch.cat([ccrop, flip], dim=0), torch.cat([labels, labels], dim=0))
    image_val_dataset = off.data.TensorDataset(torch.from_numpy(cell["val_features"].astype(np.float32)),
                                               torch.from_numpy(cell["val_labels"]))
    test = torch.from_numpy(cell["test_features"].astype(np.float32))
    test_dataset = off.data.TensorDataset(test, torch.from_numpy(cell["test_labels"]))

    with redirect_stdout(io.StringIO()):
        valid = off.train.get_valid_batch_sizes(hyper, text_dataset, image_train_dataset, modality=modality)
    generator = torch.Generator().manual_seed(SEED)
    marks = checkpoints(iters)
    grid, all_hyper = [], {}
    for lr in hyper["lr"]:
        for wd in hyper["weight_decay"]:
            for batch_size in valid:
                # train.py main, one grid point (max_iter replaced by --iters when given)
                image_encoder = off.partial.PartialResNet(mode="partial_model").train().cuda()      # layer 0
                text_encoder = off.partial.PartialTransformer(torch.float32, None, None).train().cuda()  # layer 0
                official_head, num_classes, _ = off.head.make_classifier_head("linear", "RN50", "random", text_dataset, text_encoder)
                assert isinstance(official_head, nn.Linear) and official_head.bias is None and num_classes == C
                head = nn.Linear(D, C, bias=False)
                with torch.no_grad():
                    head.weight.uniform_(-1 / math.sqrt(D), 1 / math.sqrt(D), generator=generator)
                initial = head.weight.detach().numpy().astype("<f4").copy()
                logit_head = off.logit.LogitHead(head, logit_scale=LOGIT).train().cuda()
                params_groups = [
                    {"params": logit_head.parameters()},
                    {"params": image_encoder.parameters()},
                    {"params": text_encoder.parameters()},
                ]
                optimizer = off.optim.build_optimizer(params_groups, hyper["optim"], lr, wd)
                scheduler = off.scheduler.build_lr_scheduler(optimizer, hyper["lr_scheduler"], hyper["warmup_iter"], iters,
                                                             warmup_type=hyper["warmup_type"], warmup_lr=hyper["warmup_min_lr"])
                criterion = RecordingLoss()
                criterion.optimizer = optimizer
                if modality == "cross_modal":
                    text_batch_size = int(batch_size * off.train.CROSS_MODAL_BATCH_RATIO)
                else:
                    text_batch_size = 0
                image_batch_size = batch_size - text_batch_size
                drawn = []
                text_loader = None
                if text_batch_size > 0:
                    text_loader = torch.utils.data.DataLoader(text_dataset, batch_size=text_batch_size,
                                                              sampler=Permutations(len(text_dataset), generator, drawn), drop_last=True)
                image_loader = torch.utils.data.DataLoader(image_train_dataset, batch_size=image_batch_size,
                                                           sampler=Permutations(len(image_train_dataset), generator, drawn), drop_last=True)
                val_loader = torch.utils.data.DataLoader(image_val_dataset, batch_size=batch_size, shuffle=False)
                with redirect_stdout(io.StringIO()):
                    result = off.train.train(logit_head, image_encoder, text_encoder, image_loader, val_loader, text_loader,
                                             optimizer, scheduler, criterion, iters, eval_freq=off.train.EVAL_FREQ, device="cpu")
                # train.py main after training: the best head, the zero-shot weights, the eval heads
                original_text_encoder = off.partial.PartialTransformer(torch.float32, None, None).eval()
                with redirect_stdout(io.StringIO()):
                    zero_shot_weights = off.head.get_zero_shot_weights(text_dataset, C, D, deepcopy(original_text_encoder), device="cpu")
                eval_heads = off.train.get_eval_heads(deepcopy(logit_head.head), zero_shot_weights, logit=LOGIT, ratio_list=[0.5])
                test_loader = torch.utils.data.DataLoader(test_dataset, batch_size=100, shuffle=False)
                test_accs, predictions = {}, {}
                for eval_type, eval_head in eval_heads.items():
                    test_accs[eval_type] = off.train.validate(eval_head, image_encoder, test_loader, device="cpu")
                    with torch.no_grad():
                        predictions[eval_type] = eval_head(test).argmax(1).tolist()
                hyperparams_str = off.train.get_hyperparams_str(hyper["optim"], lr, wd, batch_size, iters)
                all_hyper[hyperparams_str] = {"val_acc": result["val_acc"], "iter": result["iter"], "test_accs": test_accs}
                grid.append({
                    "hyperparams": hyperparams_str, "lr": lr, "weight_decay": wd, "batch_size": batch_size,
                    "text_batch_size": text_batch_size, "image_batch_size": image_batch_size,
                    "iter": result["iter"], "val_acc": result["val_acc"], "test_acc": test_accs["head"],
                    "initial_weight_sha256": sha256([initial]), "initial_weight_head": initial.reshape(-1)[:4].tolist(),
                    "orders_sha256": sha256(drawn), "orders_count": len(drawn), "first_order_head": drawn[0][:8].tolist(),
                    "checkpoints": marks,
                    "losses": [criterion.losses[i] for i in marks], "lrs": [criterion.lrs[i] for i in marks],
                    "predictions": predictions,
                })
                print(f"    lr {lr} wd {wd} bs {batch_size}: iter {result['iter']}, val {result['val_acc']:.4f}, "
                      f"test {test_accs['head']:.4f}", flush=True)

    # eval.py take_average: the grid point with the best val_acc (strict >, in grid order), eval type 'head'
    with redirect_stdout(io.StringIO()):
        _, columns = off.eval.take_average({SEED: all_hyper}, ALL_EVAL_TYPES=["head"])
    chosen_str = eval(columns[0][0])[0]
    chosen = next(i for i, g in enumerate(grid) if g["hyperparams"] == chosen_str)
    for i, g in enumerate(grid):
        preds = g.pop("predictions")
        if i == chosen:
            chosen_predictions = preds
    return {
        "modality": modality, "iters": iters, "valid_batch_sizes": valid, "text_count": len(text_dataset),
        "image_count": len(image_train_dataset), "grid": grid, "chosen": chosen,
        "test_predictions": chosen_predictions["head"], "test_predictions_wiseft": chosen_predictions["head_wiseft_0.5"],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--official", required=True, help="checkout of linzhiqiu/cross_modal_adaptation")
    parser.add_argument("--commit", help="commit of the checkout when it is not a git checkout")
    parser.add_argument("--iters", type=int, default=None, help="iterations per grid point (default: HYPER_DICT's 12800)")
    parser.add_argument("--out", required=True)
    parser.add_argument("cells", nargs="+")
    args = parser.parse_args()

    stub_imports()
    off = load_official(os.path.abspath(args.official))
    torch.set_num_threads(1)
    hyper = off.default.HYPER_DICT["linear"]
    iters = args.iters or hyper["max_iter"][0]
    result = {
        "generator": "tools/reference/official_crossmodal.py",
        "official": {"cross_modal_adaptation": args.commit or commit_of(args.official)},
        "versions": {"torch": torch.__version__, "numpy": np.__version__},
        "hyper": {k: v for k, v in hyper.items()}, "iters": iters, "logit": LOGIT, "seed": SEED,
        "eval_freq": off.train.EVAL_FREQ, "batch_ratio": off.train.CROSS_MODAL_BATCH_RATIO,
        "cells": [],
    }
    for path in sorted(args.cells):
        cell, meta = read_safetensors(path)
        name = os.path.basename(path)
        print(f"{name}:", flush=True)
        r = run_cell(off, cell, meta, iters, "cross_modal")
        acc = float(np.mean(np.asarray(r["test_predictions"]) == cell["test_labels"]))
        print(f"  chosen {r['grid'][r['chosen']]['hyperparams']} at iter {r['grid'][r['chosen']]['iter']}, test {100 * acc:.2f}%", flush=True)
        result["cells"].append({"file": name, **r})
    with open(os.path.join(args.out, "crossmodal.json"), "w") as f:
        json.dump(result, f)
        f.write("\n")


if __name__ == "__main__":
    main()
