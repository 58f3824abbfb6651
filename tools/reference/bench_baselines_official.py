#!/usr/bin/env python3
"""Time the *official* code of the 2023-24 baselines on one cell, for ``tools/bench/baselines-vs-official.sh`` (which
times our plugins on the same cell and prints both). One method per process (``--method``): TaskRes and CLAP run on
KaiyangZhou's Dassl, KgCoOp on its own copy of it, and each official repository has its own ``clip`` package.

What runs is what the parity fixtures run (the official functions unmodified, with the stand-ins described in each
``official_*.py``), here with the thread count of ``--threads`` and timed:

* ``taskres``, ``clap``, ``lp-plus-plus``, ``gda`` (features only): the whole official fit on the cell with the
  published settings (TaskRes ``adam_lr2e-3_B256_ep200`` for 16 shots, scale 0.5; CLAP ``SGD_lr1e-1_B256_ep300``, the
  l2 constraint; LP++ ``configs/base.yaml``'s epochs; GDA ``run`` with its α search), logit scale 100 (the
  benchmark cell has no CLIP checkpoint). ``fit_s`` is that call, ``epochs`` what it ran, ``test_accuracy`` of its
  predictions (a check that both sides did the same work).
* ``cross-modal``: ``train.py``'s grid (lr × weight decay × valid batch sizes) with ``--iters`` iterations per point
  instead of 12,800 (the published count is 10× the default here; the time per iteration does not depend on it).
* ``kgcoop``, ``cocoop`` (the text tower in the loop): the trainer built by its own ``build_model`` on the
  random-weight ViT-B/16 of ``bench_methods_official.py --make-vit-b16`` (77-token prompts, fp32), its image encoder
  the identity on the cell's views; one untimed ``forward_backward``, then ``--steps`` timed ones (KgCoOp
  ``rn50_ep100``: batch 32, N_CTX 4, "a photo of a", W 8; CoCoOp ``vit_b16_c4_ep10_batch1_ctxv1``: batch 1, the
  text tower runs once per image over every class).

Prints one JSON line.
"""
import argparse
import importlib
import io
import json
import math
import os
import sys
import time
from contextlib import redirect_stdout

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from official_side_by_side import commit_of, read_safetensors, stub_modules  # noqa: E402
from bench_methods_official import built_trainer, limit_threads, load_coop_clip, time_steps  # noqa: E402

LOGIT_SCALE = 100.0


def accuracy(predictions, cell):
    return float(np.mean(np.asarray(predictions) == cell["test_labels"]))


def timed(fn):
    t0 = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t0


def taskres(args, cell, meta):
    import official_taskres as o
    defaults, optim = o.load_dassl(args.dassl)
    module = o.load_taskres(args.repo)
    r, seconds = timed(lambda: o.run_cell(module, defaults, optim, args.repo, cell, meta, LOGIT_SCALE))
    return {"fit_s": seconds, "epochs": r["epochs"], "config": r["config"], "test_accuracy": accuracy(r["test_predictions"], cell)}, \
        {"taskres": commit_of(args.repo), "dassl": commit_of(args.dassl)}


def clap(args, cell, meta):
    import official_clap as o
    from official_taskres import load_dassl
    defaults, optim = load_dassl(args.dassl)
    adapters = o.load_clap(args.repo)
    r, seconds = timed(lambda: o.run_cell(adapters, defaults, optim, args.repo, cell, meta, math.log(LOGIT_SCALE), "l2"))
    return {"fit_s": seconds, "epochs": r["epochs"], "batches_per_epoch": r["batches_per_epoch"],
            "test_accuracy": accuracy(r["test_predictions"], cell)}, {"clap": commit_of(args.repo), "dassl": commit_of(args.dassl)}


def lp_plus_plus(args, cell, meta):
    import official_lpp as o
    import yaml
    lpp = o.load_lpp(args.repo)
    with open(os.path.join(args.repo, "configs", "base.yaml")) as f:
        epochs = int(yaml.safe_load(f)["train_epoch"])
    r, seconds = timed(lambda: o.run_cell(lpp, cell, meta, epochs))
    return {"fit_s": seconds, "epochs": epochs, "test_accuracy": r["test_accuracy"] / 100}, {"lp_plus_plus": commit_of(args.repo)}


def gda(args, cell, meta):
    import official_side_by_side as o
    main = o.load_official(args.repo, "main_few_shots.py", "gda_main_few_shots")
    views = cell["train_views"].shape[0]
    r, seconds = timed(lambda: o.run_gda(main, cell, views))
    return {"fit_s": seconds, "views": views, "alpha": r["alpha"], "test_accuracy": accuracy(r["test_predictions"], cell)}, \
        {"gda": commit_of(args.repo)}


def cross_modal(args, cell, meta):
    import official_crossmodal as o
    o.stub_imports()
    off = o.load_official(args.repo)
    torch.set_num_threads(args.threads)   # train.py sets 4 at import
    with redirect_stdout(io.StringIO()):
        r, seconds = timed(lambda: o.run_cell(off, cell, meta, args.iters, "cross_modal"))
    return {"fit_s": seconds, "iters": args.iters, "grid_points": len(r["grid"]), "valid_batch_sizes": r["valid_batch_sizes"],
            "test_accuracy": accuracy(r["test_predictions"], cell)}, {"cross_modal_adaptation": commit_of(args.repo)}


def prompt_steps(args, cell, meta):
    """KgCoOp / CoCoOp: the official trainer on the random-weight ViT-B/16, ``--steps`` timed forward_backward calls."""
    import official_kgcoop as k
    import official_taskres as t
    from official_cocoop import config as cocoop_config
    repo = args.repo
    dassl = os.path.join(repo, "Dassl.ProGrad.pytorch") if args.method == "kgcoop" else args.dassl
    defaults, _ = t.load_dassl(dassl)
    if args.method == "kgcoop":
        trainers = k.load_kgcoop(repo, args.ftfy)
    else:
        load_coop_clip(repo, args.ftfy)
        trainers = importlib.import_module("trainers.cocoop")
    state = torch.load(args.clip, map_location="cpu")
    trainers.load_clip_to_cpu = lambda cfg: trainers.clip.build_model(dict(state)).float()
    classnames = json.loads(meta["classnames"])
    if args.method == "kgcoop":
        trainers.CUSTOM_TEMPLATES[meta["dataset"]] = json.loads(meta["templates"])[0]
        trainer = built_trainer(trainers.KgCoOp, k.config(defaults, repo, meta["dataset"], 224), classnames)
    else:
        trainer = built_trainer(trainers.CoCoOp, cocoop_config(defaults, repo, 224), classnames)
    cfg = trainer.cfg
    step_s = time_steps(trainer, cell, args.steps)
    official = {args.method: commit_of(repo)}
    if args.method == "cocoop":
        official["dassl"] = commit_of(args.dassl)
    return {"steps": args.steps, "step_s": step_s, "classes": len(classnames), "batch": cfg.DATALOADER.TRAIN_X.BATCH_SIZE,
            "context_length": int(trainer.model.tokenized_prompts.shape[1])}, official


METHODS = {"taskres": taskres, "clap": clap, "lp-plus-plus": lp_plus_plus, "gda": gda, "cross-modal": cross_modal,
           "kgcoop": prompt_steps, "cocoop": prompt_steps}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--method", required=True, choices=sorted(METHODS))
    parser.add_argument("--cell", required=True)
    parser.add_argument("--repo", required=True, help="the method's official checkout (CoCoOp: KaiyangZhou/CoOp)")
    parser.add_argument("--dassl", help="checkout of KaiyangZhou/Dassl.pytorch (TaskRes, CLAP, CoCoOp)")
    parser.add_argument("--ftfy", help="checkout of rspeer/python-ftfy (KgCoOp, CoCoOp: CLIP's tokenizer imports it)")
    parser.add_argument("--clip", help="KgCoOp, CoCoOp: the CLIP state dict of bench_methods_official.py --make-vit-b16")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--steps", type=int, default=2, help="KgCoOp, CoCoOp: timed steps")
    parser.add_argument("--iters", type=int, default=1280, help="cross-modal: iterations per grid point")
    args = parser.parse_args()
    for key in ("repo", "dassl", "ftfy", "clip"):
        if getattr(args, key):
            setattr(args, key, os.path.abspath(getattr(args, key)))
    limit_threads(args.threads)
    stub_modules()
    cell, meta = read_safetensors(args.cell)
    result, official = METHODS[args.method](args, cell, meta)
    print(json.dumps({"side": "official", "threads": torch.get_num_threads(), "cell": os.path.basename(args.cell),
                      "versions": {"torch": torch.__version__, "numpy": np.__version__}, "official": official,
                      "methods": {args.method: result}}))


if __name__ == "__main__":
    main()
