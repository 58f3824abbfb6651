#!/usr/bin/env python3
"""Time the *official* implementations of Tip-Adapter-F, CoOp's linear probe, CLIP-Adapter and CoOp on one cell of
features, for ``tools/bench/methods-vs-official.sh`` (which times ours on the same cell and prints both).

The official code is not part of this repository; give the folders of your own checkouts (the commits are recorded in
the output, from ``<dir>/.git`` or, for a ``git archive`` extract, a ``<dir>/COMMIT`` file holding the commit id)::

    gaopengcuhk/Tip-Adapter   main.py / utils.py          (d0e2d6f8c5feb8b6ce937b757810761f7155d4d5)
    KaiyangZhou/CoOp          lpclip/linear_probe.py      (ff61507c790454bce7c5052c3ac39e60772f1f89)
    gaopengcuhk/CLIP-Adapter  clip_adapter.py             (08d07f8b2ecafc6f1479fe636b26d464d7a5574e)
    KaiyangZhou/Dassl.pytorch the trainer CLIP-Adapter runs in (c61a1b570ac6333bd50fb5ae06aea59002fb20bb)
    rspeer/python-ftfy        CoOp only: CLIP's tokenizer imports it (74dd0452b48286a3770013b3a02755313bd5575e),
                              with python3-regex and python3-wcwidth

Debian 12's python3-torch (1.13), python3-sklearn (1.2.1), python3-numpy, python3-yaml and libopenblas0-pthread.

Two modes:

* ``--make-cell OUT``: writes a synthetic cell in the layout of ``peft data export-cell`` (fp32): ``classes`` ×
  ``shots`` training images with ``views`` augmented views each, ``min(shots, 4)`` validation images per class (the
  few-shot validation split, as lpclip's ``val_shot_list``), ``test_per_class`` test images per class, class-clustered
  random features of width ``dim`` and one template's text embeddings near the class centres.
* otherwise: runs the official code on ``--cell`` (an exported or synthetic cell) with ``torch.set_num_threads`` and
  the BLAS thread count set to ``--threads`` and prints one JSON line: seconds per method and what was done.

What runs, unmodified, with the stand-ins of ``official_side_by_side.py`` / ``official_taskres.py``:

* **Tip-Adapter-F**: ``main.py``'s ``run_tip_adapter_F`` (20 epochs; AdamW, batch 256, shuffled; each epoch's test
  evaluation and ``torch.save`` of the best keys; then ``search_hp`` over the 200 × 20 (β, α) grid on the cell's
  validation features; the final test evaluation) on the cache that ``utils.py``'s ``build_cache_model`` builds from
  the cell's views (not timed). Stand-in CLIP: ``encode_image`` of a batch of row indices returns augmented view
  (epoch mod V) of those rows, as our cached views. ``train_s`` = start to the ``search_hp`` call (20 epochs with their
  test evaluations), ``search_s`` = the ``search_hp`` call. Warm-up: one untimed run with a 2 × 2 grid (``search_hp: False``
  fails in the official ``search_hp``).
* **Linear probe**: ``lpclip/linear_probe.py`` run as a script (``--num_run 1``) on the cell's ``train``/``val``/
  ``test`` npz files. The script loops over 1, 2, 4, 8 and 16 shots; only the block of the cell's shot count is timed
  (from its first ``np.random.choice`` to the script's end: 7 grid fits and 8 bisection steps of 2 fits, sklearn's
  ``LogisticRegression(lbfgs, max_iter=1000)``). The blocks before it are the warm-up and run with ``max_iter=1``
  (they are not measured and only make the script reach the cell's block sooner). The row orders the script drew for
  the timed block are written to ``--orders`` so that ours fits the same rows in the same order.
* **CLIP-Adapter**: ``clip_adapter.py``'s ``CustomCLIP.forward``, ``Adapter`` and ``CLIP_Adapter.forward_backward``
  in Dassl's ``TrainerX.run_epoch`` (SGD, warm-up/cosine, CoOp's ``configs/trainers/CoOp/rn50.yaml``: batch 32,
  lr 0.002, 200 epochs of which ``--clip-adapter-epochs`` are run and timed, after one untimed warm-up epoch on a
  separate trainer). Stand-ins: the image encoder returns the cached view (epoch mod V) of the batch's rows; the text
  encoder returns the cell's exported unnormalised text embeddings of the dataset's template (the official code runs
  the text tower on every step; ours computes these features once, so that cost is left out on both sides);
  ``logit_scale`` = ln 100. The released ``Adapter(1024, 4)`` is sized for RN50 (D = 1024); on a cell of another
  width the model's adapter is replaced by the official ``Adapter(D, 4)`` (reported as ``adapter_width_patched``).
* **CoOp** (``--methods coop``, with ``--clip`` a state dict written by ``--make-vit-b16``: a ViT-B/16 CLIP with
  random weights from CoOp's own ``clip/model.py``): ``trainers/coop.py``'s ``build_model`` (``PromptLearner``,
  ``TextEncoder``, ``CustomCLIP``; ``configs/trainers/CoOp/vit_b16.yaml``, N_CTX 16, random context, class token at
  the end, fp32) with its image encoder the identity on the cell's cached views; one untimed ``forward_backward``
  call, then ``--coop-steps`` timed ones on batches of 32.
"""
import argparse
import importlib.util
import io
import json
import math
import os
import sys
import tempfile
import time
import types
import warnings
from contextlib import redirect_stdout

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from official_side_by_side import (ViewClip, commit_of, load_tip_adapter, normalised, read_safetensors,  # noqa: E402
                                   run_lpclip, stub_modules, write_safetensors, openblas_config)


# ------------------------------------------------------------------------------------------------------------ cell

def make_cell(out, classes, shots, dim, views, test_per_class, seed):
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(classes, dim, generator=g)

    def sample(per_class):
        labels = torch.arange(classes).repeat_interleave(per_class)
        return centres[labels] + 1.5 * torch.randn(len(labels), dim, generator=g), labels

    train, train_labels = sample(shots)
    train_views = train.unsqueeze(0) + 0.5 * torch.randn(views, len(train_labels), dim, generator=g)
    val, val_labels = sample(min(shots, 4))
    test, test_labels = sample(test_per_class)
    text = (centres + 1.0 * torch.randn(classes, dim, generator=g)).unsqueeze(1)          # [C, T=1, D]
    weights = text / text.norm(dim=-1, keepdim=True)
    weights = weights.mean(1)
    weights = weights / weights.norm(dim=-1, keepdim=True)                                 # clip_classifier
    arrays = {"train_features": train, "train_labels": train_labels, "train_views": train_views,
              "val_features": val, "val_labels": val_labels, "test_features": test, "test_labels": test_labels,
              "text_weights": weights, "text_embeddings": text}
    arrays = {k: v.numpy().astype(np.int64 if v.dtype == torch.int64 else np.float32) for k, v in arrays.items()}
    meta = {"classnames": json.dumps([f"class {i}" for i in range(classes)]), "templates": json.dumps(["a photo of a {}."]),
            "shots": str(shots), "seed": str(seed), "dataset": "synthetic"}
    write_safetensors(out, arrays, meta)


def f32(cell, key):
    return torch.from_numpy(cell[key].astype(np.float32))


# ---------------------------------------------------------------------------------------------------- Tip-Adapter-F

class CyclingViewClip(ViewClip):
    """The stand-in CLIP of official_side_by_side.py, cycling through the cell's views (epoch e → view e mod V)."""

    def encode_image(self, images):
        return self.views[self.epoch % self.views.shape[0]][images]


class ShuffledViewLoader:
    """train_loader_F (batch 256, shuffle=True, drop_last=False): (row indices, labels); one epoch per iteration."""

    def __init__(self, clip, labels, batch=256, seed=1):
        self.clip, self.labels, self.batch = clip, labels, batch
        self.g = torch.Generator().manual_seed(seed)
        self.epoch_starts = []

    def __iter__(self):
        self.clip.epoch += 1
        self.epoch_starts.append(time.perf_counter())
        n = len(self.labels)
        order = torch.randperm(n, generator=self.g)
        for start in range(0, n, self.batch):
            idx = order[start:start + self.batch]
            yield idx, self.labels[idx]

    def __len__(self):
        return (len(self.labels) + self.batch - 1) // self.batch


class OrderedViewLoader(ShuffledViewLoader):
    """train_loader_cache (shuffle=False): used once, by build_cache_model."""

    def __iter__(self):
        self.clip.epoch += 1
        n = len(self.labels)
        for start in range(0, n, self.batch):
            idx = torch.arange(start, min(n, start + self.batch))
            yield idx, self.labels[idx]


def tip_adapter_f(folder, cell, epochs=20):
    main = load_tip_adapter(folder)
    views = f32(cell, "train_views")
    labels = torch.from_numpy(cell["train_labels"])
    shots = int(len(labels) / len(np.unique(cell["train_labels"])))
    val_f, val_l = normalised(cell, "val_features"), torch.from_numpy(cell["val_labels"])
    test_f, test_l = normalised(cell, "test_features"), torch.from_numpy(cell["test_labels"])
    weights = torch.from_numpy(cell["text_weights"]).t().contiguous()                      # clip_classifier: [D, C]
    times = {}
    official_search = main.search_hp

    def timed_search(*args, **kwargs):
        times["search_start"] = time.perf_counter()
        out = official_search(*args, **kwargs)
        times["search_end"] = time.perf_counter()
        times["chosen"] = out
        return out

    main.search_hp = timed_search
    result = {}
    with tempfile.TemporaryDirectory() as cache_dir:
        base = {"cache_dir": cache_dir, "load_cache": False, "load_pre_feat": False, "augment_epoch": views.shape[0],
                "shots": shots, "lr": 0.001, "train_epoch": epochs, "init_beta": 1.0, "init_alpha": 1.17,
                "search_scale": [7, 3], "search_step": [200, 20]}   # configs/imagenet.yaml
        clip = CyclingViewClip(views)
        with redirect_stdout(io.StringIO()):
            keys, values = main.build_cache_model(dict(base, search_hp=True), clip, OrderedViewLoader(clip, labels))
        values = values.float()   # the official cache is half (GPU, fp16 CLIP); the project runs fp32
        for run in ("warm-up", "timed"):
            # warm-up with a 2 × 2 grid (search_hp: False makes the official search_hp fail: best_beta unbound)
            cfg = dict(base, search_hp=True, search_step=[200, 20] if run == "timed" else [2, 2])
            clip = CyclingViewClip(views)
            loader = ShuffledViewLoader(clip, labels)
            times.clear()
            with redirect_stdout(io.StringIO()):
                t0 = time.perf_counter()
                main.run_tip_adapter_F(cfg, keys, values, val_f, val_l, test_f, test_l, weights, clip, loader)
                t1 = time.perf_counter()
        assert len(loader.epoch_starts) == epochs
        result = {"epochs": epochs, "fit_s": t1 - t0, "train_s": times["search_start"] - t0,
                  "search_s": times["search_end"] - times["search_start"], "search_grid": [200, 20],
                  "beta_alpha": list(times["chosen"]), "train_rows": len(labels), "val_rows": len(val_l),
                  "test_rows": len(test_l)}
    main.search_hp = official_search
    return result


# ------------------------------------------------------------------------------------------------------ linear probe

def linear_probe(coop, cell, orders_out):
    import sklearn.linear_model
    from sklearn.exceptions import ConvergenceWarning
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    shots = int(len(cell["train_labels"]) / len(np.unique(cell["train_labels"])))
    order = [1, 2, 4, 8, 16]
    block = order.index(shots)
    classes = len(np.unique(cell["train_labels"]))
    official_lr = sklearn.linear_model.LogisticRegression
    official_choice = np.random.choice
    state = {"choices": 0, "start": None, "fits": [], "draws": []}

    def timed_choice(a, size=None, replace=True, p=None):
        if state["choices"] == block * 2 * classes:
            state["start"] = time.perf_counter()
        state["choices"] += 1
        out = official_choice(a, size=size, replace=replace, p=p)
        if state["start"] is not None:
            state["draws"].append(np.asarray(out).astype(int).tolist())
        return out

    class Counting(official_lr):
        def fit(self, x, y, sample_weight=None):
            if state["start"] is None:   # a block before the cell's shot count: warm-up, one iteration
                self.max_iter = 1
                return super().fit(x, y, sample_weight)
            result = super().fit(x, y, sample_weight)
            state["fits"].append({"C": float(self.C), "n_iter": int(self.n_iter_[0])})
            return result

    _, end = run_lpclip(coop, cell, Counting, timed_choice)  # stops with the first shot count above the cell's
    draws = state["draws"][:2 * classes]
    with open(orders_out, "w") as f:
        json.dump({"train_order": [i for d in draws[:classes] for i in d],
                   "val_order": [i for d in draws[classes:] for i in d]}, f)
    fits = state["fits"][:23]
    return {"fit_s": end - state["start"], "fits": len(fits), "lbfgs_iterations": sum(f["n_iter"] for f in fits),
            "searched_c": [f["C"] for f in fits], "at_max_iter": sum(f["n_iter"] >= 1000 for f in fits)}


# ------------------------------------------------------------------------------------------------------ CLIP-Adapter

class FixedText(nn.Module):
    """TextEncoder.forward without the text tower: the exported unnormalised features of the dataset's template."""

    def __init__(self, features):
        super().__init__()
        self.register_buffer("features", features)

    def forward(self):
        return self.features


def clip_adapter(folder, dassl, coop, cell, epochs):
    from official_taskres import CellLoader, load_dassl, to_cn
    import copy
    import yaml
    defaults, optim = load_dassl(dassl)
    sys.modules["clip"].clip = types.ModuleType("clip.clip")
    spec = importlib.util.spec_from_file_location("clip_adapter_official", os.path.join(folder, "clip_adapter.py"))
    ca = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ca)
    cfg = copy.deepcopy(defaults)
    with open(os.path.join(coop, "configs", "trainers", "CoOp", "rn50.yaml")) as f:
        cfg.merge(to_cn(yaml.safe_load(f)))
    dim = cell["train_features"].shape[1]
    patched = dim != 1024
    views, labels = f32(cell, "train_views"), torch.from_numpy(cell["train_labels"])
    text = torch.from_numpy(cell["text_embeddings"][:, 0, :].astype(np.float32))

    def trainer_for(seed):
        torch.manual_seed(seed)
        clip_model = types.SimpleNamespace(visual=nn.Identity(), logit_scale=nn.Parameter(torch.tensor(math.log(100.0))),
                                           dtype=torch.float32)
        model = ca.CustomCLIP(cfg, [], clip_model)     # the official __init__: Adapter(1024, 4)
        if patched:                                    # sized for RN50: the same module at the cell's width
            model.adapter = ca.Adapter(dim, 4).to(torch.float32)
        model.text_encoder = FixedText(text)
        for name, p in model.named_parameters():
            if "adapter" not in name:
                p.requires_grad_(False)
        trainer = object.__new__(ca.CLIP_Adapter)
        trainer._models, trainer._optims, trainer._scheds, trainer._writer = {}, {}, {}, None
        trainer.cfg, trainer.device, trainer.model = cfg, torch.device("cpu"), model
        trainer.optim = optim.build_optimizer(model.adapter, cfg.OPTIM)
        trainer.sched = optim.build_lr_scheduler(trainer.optim, cfg.OPTIM)
        trainer.register_model("clip_adapter", model.adapter, trainer.optim, trainer.sched)
        trainer.train_loader_x = CellLoader(views, labels, cfg.DATALOADER.TRAIN_X.BATCH_SIZE, torch.Generator().manual_seed(1))
        trainer.max_epoch = cfg.OPTIM.MAX_EPOCH
        return trainer

    with redirect_stdout(io.StringIO()):
        warm = trainer_for(0)
        warm.epoch = 0
        warm.run_epoch()
        trainer = trainer_for(0)
        epoch_s = []
        for trainer.epoch in range(epochs):
            t0 = time.perf_counter()
            trainer.run_epoch()
            epoch_s.append(time.perf_counter() - t0)
    return {"epochs": epochs, "epoch_s": epoch_s, "train_s": sum(epoch_s), "batch": cfg.DATALOADER.TRAIN_X.BATCH_SIZE,
            "steps_per_epoch": len(trainer.train_loader_x), "adapter_width_patched": patched}


# ------------------------------------------------------------------------------------------------------------- CoOp

def make_vit_b16(coop, ftfy, out, seed=0):
    """A ViT-B/16 CLIP with random weights (CoOp's clip/model.py, its own initialisation), saved as a state dict."""
    clip_pkg = load_coop_clip(coop, ftfy)
    torch.manual_seed(seed)
    model = clip_pkg.model.CLIP(embed_dim=512, image_resolution=224, vision_layers=12, vision_width=768,
                                vision_patch_size=16, context_length=77, vocab_size=49408, transformer_width=512,
                                transformer_heads=8, transformer_layers=12)
    torch.save(model.state_dict(), out)


def load_coop_clip(coop, ftfy):
    for name in ("clip", "clip.simple_tokenizer", "clip.clip", "clip.model"):
        sys.modules.pop(name, None)
    sys.path.insert(0, ftfy)
    sys.path.insert(0, coop)
    import clip as clip_pkg
    import clip.model  # noqa: F401
    return clip_pkg


def coop_steps(coop, dassl, ftfy, cell, checkpoint, steps):
    """CoOp's trainers/coop.py (build_model, PromptLearner, TextEncoder, CustomCLIP.forward, forward_backward) with
    configs/trainers/CoOp/vit_b16.yaml, 16 random context vectors (CTX_INIT empty), class token at the end, fp32, on a
    random-weight ViT-B/16 (its image encoder the identity on the cell's features): one untimed step, then ``steps``
    timed calls of ``forward_backward`` on batches of 32."""
    from official_taskres import load_dassl, to_cn
    import copy
    import yaml
    defaults, _ = load_dassl(dassl)
    load_coop_clip(coop, ftfy)
    trainers = importlib.import_module("trainers.coop")
    state = torch.load(checkpoint, map_location="cpu")
    trainers.load_clip_to_cpu = lambda cfg: trainers.clip.build_model(dict(state))
    cfg = copy.deepcopy(defaults)
    with open(os.path.join(coop, "configs", "trainers", "CoOp", "vit_b16.yaml")) as f:
        cfg.merge(to_cn(yaml.safe_load(f)))
    cfg.TRAINER.COOP = to_cn({"N_CTX": 16, "CSC": False, "CTX_INIT": "", "PREC": "fp32", "CLASS_TOKEN_POSITION": "end"})
    meta_classes = sorted(set(cell["train_labels"].tolist()))
    classnames = [f"class {i}" for i in meta_classes]
    trainer = built_trainer(trainers.CoOp, cfg, classnames)
    step_s = time_steps(trainer, cell, steps)
    return {"steps": steps, "step_s": step_s, "classes": len(classnames), "batch": cfg.DATALOADER.TRAIN_X.BATCH_SIZE,
            "context_length": int(trainer.model.tokenized_prompts.shape[1])}


def built_trainer(trainer_class, cfg, classnames):
    """A Dassl trainer of a prompt-learning method (CoOp, KgCoOp, CoCoOp) with the state TrainerX.__init__ gives it
    before build_model (the data manager reduced to the class names), on the CPU, then its own build_model."""
    trainer = object.__new__(trainer_class)
    trainer._models, trainer._optims, trainer._scheds, trainer._writer = {}, {}, {}, None
    trainer.cfg, trainer.device = cfg, torch.device("cpu")
    trainer.dm = types.SimpleNamespace(dataset=types.SimpleNamespace(classnames=classnames))
    with redirect_stdout(io.StringIO()):
        trainer.build_model()
    return trainer


def time_steps(trainer, cell, steps):
    """A Dassl trainer built by its own build_model, its image encoder replaced by the identity on the cell's views:
    one untimed ``forward_backward`` call, then ``steps`` timed ones on the batches of its training loader (epoch e on
    view e mod V, reshuffled per epoch); returns the seconds of each timed step."""
    from official_taskres import CellLoader
    cfg = trainer.cfg
    trainer.model.image_encoder = nn.Identity()
    views, labels = f32(cell, "train_views"), torch.from_numpy(cell["train_labels"])
    loader = CellLoader(views, labels, cfg.DATALOADER.TRAIN_X.BATCH_SIZE, torch.Generator().manual_seed(1))
    trainer.epoch, trainer.max_epoch, trainer.num_batches = 0, cfg.OPTIM.MAX_EPOCH, 10 ** 9
    batches, step_s = iter(loader), []
    for i in range(steps + 1):
        batch = next(batches, None)
        if batch is None:
            batches = iter(loader)
            batch = next(batches)
        trainer.batch_idx = i
        t0 = time.perf_counter()
        trainer.forward_backward(batch)
        if i > 0:
            step_s.append(time.perf_counter() - t0)
    return step_s


# ---------------------------------------------------------------------------------------------------------- main

def limit_threads(threads):
    """PyTorch's intra-op threads and, where threadpoolctl is installed, every BLAS / OpenMP pool of the process."""
    torch.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(threads)
    except ImportError:
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--make-cell", help="write a synthetic cell here and exit")
    parser.add_argument("--classes", type=int, default=100)
    parser.add_argument("--shots", type=int, default=16)
    parser.add_argument("--dim", type=int, default=1024)
    parser.add_argument("--views", type=int, default=10)
    parser.add_argument("--test-per-class", type=int, default=25)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cell")
    parser.add_argument("--tip-adapter", help="checkout of gaopengcuhk/Tip-Adapter")
    parser.add_argument("--coop", help="checkout of KaiyangZhou/CoOp")
    parser.add_argument("--clip-adapter", help="checkout of gaopengcuhk/CLIP-Adapter")
    parser.add_argument("--dassl", help="checkout of KaiyangZhou/Dassl.pytorch")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--clip-adapter-epochs", type=int, default=10)
    parser.add_argument("--methods", default="tip-adapter-f,linear-probe,clip-adapter")
    parser.add_argument("--orders", help="where the linear probe's row orders are written (JSON)")
    parser.add_argument("--ftfy", help="checkout of rspeer/python-ftfy (CoOp's CLIP tokenizer imports it)")
    parser.add_argument("--clip", help="CoOp: a CLIP state dict (written by --make-vit-b16)")
    parser.add_argument("--coop-steps", type=int, default=2)
    parser.add_argument("--make-vit-b16", help="write a random-weight ViT-B/16 CLIP state dict here and exit (needs --coop, --ftfy)")
    args = parser.parse_args()
    if args.make_vit_b16:
        stub_modules()
        make_vit_b16(os.path.abspath(args.coop), os.path.abspath(args.ftfy), args.make_vit_b16)
        return
    if args.make_cell:
        make_cell(args.make_cell, args.classes, args.shots, args.dim, args.views, args.test_per_class, args.seed)
        return
    limit_threads(args.threads)
    stub_modules()
    cell, meta = read_safetensors(args.cell)
    methods = args.methods.split(",")
    out = {"side": "official", "threads": torch.get_num_threads(), "cell": os.path.basename(args.cell),
           "versions": {"torch": torch.__version__, "numpy": np.__version__, "openblas": openblas_config()},
           "official": {}, "methods": {}}
    if "tip-adapter-f" in methods:
        out["official"]["tip_adapter"] = commit_of(args.tip_adapter)
        out["methods"]["tip-adapter-f"] = tip_adapter_f(os.path.abspath(args.tip_adapter), cell)
    if "linear-probe" in methods:
        import sklearn
        out["versions"]["sklearn"] = sklearn.__version__
        out["official"]["coop"] = commit_of(args.coop)
        out["methods"]["linear-probe"] = linear_probe(os.path.abspath(args.coop), cell, args.orders)
    if "clip-adapter" in methods:
        out["official"]["clip_adapter"] = commit_of(args.clip_adapter)
        out["official"]["dassl"] = commit_of(args.dassl)
        out["methods"]["clip-adapter"] = clip_adapter(os.path.abspath(args.clip_adapter), os.path.abspath(args.dassl),
                                                      os.path.abspath(args.coop), cell, args.clip_adapter_epochs)
    if "coop" in methods:
        out["official"]["coop"] = commit_of(args.coop)
        out["official"]["dassl"] = commit_of(args.dassl)
        out["methods"]["coop"] = coop_steps(os.path.abspath(args.coop), os.path.abspath(args.dassl), os.path.abspath(args.ftfy),
                                            cell, args.clip, args.coop_steps)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
