#!/usr/bin/env python3
"""Time one training step of the *official* encoder-level methods (MaPLe, VPT, CLIP-LoRA, BitFit) on a random-weight
ViT-B/16, for ``tools/bench/encoder-methods-vs-official.sh`` (which times ours, ``Peft.Benchmarks encoder-steps``, on the
same work: batch 32 at 224 px, 10 classes, fp32, and prints both).

Checkouts (not part of this repository; the commits are recorded in the output)::

    muzairkhattak/multimodal-prompt-learning  MaPLe and its VPT baseline (69bce21ae8eda80ad6187534b2dce09cf6c59e17)
    MaxZanella/CLIP-LoRA                      loralib, clip/model.py, lora.py (358f0d7361f59e66c0b2d0b672a3dafb143a759b)
    KilianLP/CoOpLoraSquared-                 2SFS, BitFit's published setting (54c893e14ede5ad98146dd4378f15d0c1c87c1ad)
    rspeer/python-ftfy                        CLIP's tokenizer imports it (with python3-regex)

What runs, with the published settings:

* ``maple``: ``trainers/maple.py``'s ``CustomCLIP`` (``MultiModalPromptLearner``, ``TextEncoder``, the repository's
  ``clip/model.py`` built with design "MaPLe") from ``configs/trainers/MaPLe/vit_b16_c2_ep5_batch4_2ctx.yaml``
  (N_CTX 2, "a photo of a", PROMPT_DEPTH 9), PREC fp32; only the prompt learner trains (``build_model``); a step is
  ``MaPLe.forward_backward``'s body: ``loss = model(image, label)``, ``optim.zero_grad()``, ``loss.backward()``,
  ``optim.step()`` with SGD (lr 0.0035, momentum 0.9, weight decay 5e-4). The forward's ``.half()`` casts of the
  prompts are the identity here (the model is fp32: the trainer's fp16 CLIP is a GPU setting; the casts cost nothing).
* ``vpt``: ``trainers/vpt.py``'s ``CustomCLIP`` (deep visual prompts, design "VPT",
  ``vit_b16_c2_ep5_batch4_4.yaml``: 8 prompts, depth 12, fixed hand-crafted text features computed once), PREC fp32,
  the same step with SGD (lr 0.0025).
* ``clip-lora``: ``loralib``'s ``apply_lora`` on the repository's ``clip/model.py`` (encoder both, position all, q/k/v,
  r 2, alpha 1, dropout 0.25: ``lora.py``'s defaults) and the body of ``run_lora``'s training loop: tokenize the
  classes' prompts, ``encode_text``, ``encode_image``, cosine logits × 100, cross-entropy, AdamW (lr 2e-4, weight
  decay 1e-2) step. Its CUDA autocast and GradScaler do nothing on a CPU (fp32). loralib calls
  ``F.scaled_dot_product_attention``, which Debian's PyTorch 1.13 lacks: the reference formula of
  ``make_lora_fixtures.py`` stands in (the same unfused matmul–softmax–matmul PyTorch 1.13's attention runs).

* ``bitfit``: 2SFS's first stage with ``--peft bitfit`` (``fs/twostage.py``): ``fs/utils/model_utils.py``'s
  ``trainable_bias_params`` (every bias of both towers' blocks, layer norms and the final norms; ``main.py``'s defaults:
  encoder both, start 0) on the repository's ``clip/model.py``, and the body of ``train_epoch``: ``encode_text`` of the
  tokenized class prompts and ``encode_image`` with gradients, cosine logits × ``logit_scale.exp()``, cross-entropy,
  AdamW (lr 2e-4, weight decay 1e-2) step; its CUDA autocast and GradScaler do nothing on a CPU. (``model_utils.py``
  is loaded by path: the ``fs`` package's ``__init__`` imports every trainer of the repository.)

Each method: one untimed step, then ``--steps`` timed ones on the same random images. Prints one JSON line.
"""
import argparse
import importlib
import importlib.util
import io
import json
import os
import sys
import time
import types
from contextlib import redirect_stdout

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from official_side_by_side import commit_of  # noqa: E402

BATCH, CLASSES = 32, 10


def stand_ins():
    """Dassl, torchvision, PIL and tqdm (imported by the trainers and clip.py, unused by a training step) as
    make_maple_fixtures.py stubs them; the real BPE tokenizer (its stand-in is dropped when the repository's clip
    package is imported); everything stays on the CPU."""
    from make_maple_fixtures import register_stand_ins
    register_stand_ins()
    torch.Tensor.cuda = lambda self, *a, **k: self
    torch.nn.Module.cuda = lambda self, *a, **k: self


def repo_clip(repo):
    """The repository's own clip package (each ships a modified copy of openai/CLIP's), its folder first on sys.path:
    returns its clip.clip and clip.model modules."""
    sys.path.insert(0, repo)
    for m in [m for m in sys.modules if m == "clip" or m.startswith("clip.")]:
        sys.modules.pop(m)
    import clip.clip  # noqa: F401
    return sys.modules["clip.clip"], sys.modules["clip.model"]


def prompt_method(args, state, images, labels, classnames):
    _, clip_model = repo_clip(args.repo)
    trainers = importlib.import_module(f"trainers.{args.method}")
    if args.method == "maple":
        cfg = types.SimpleNamespace(
            TRAINER=types.SimpleNamespace(MAPLE=types.SimpleNamespace(N_CTX=2, CTX_INIT="a photo of a", PROMPT_DEPTH=9, PREC="fp32")),
            INPUT=types.SimpleNamespace(SIZE=(224, 224)))
        design = {"trainer": "MaPLe", "vision_depth": 0, "language_depth": 0, "vision_ctx": 0, "language_ctx": 0, "maple_length": 2}
        trainable, lr = "prompt_learner", 0.0035
    else:
        cfg = types.SimpleNamespace(
            TRAINER=types.SimpleNamespace(VPT=types.SimpleNamespace(N_CTX_VISION=8, CTX_INIT="a photo of a", PREC="fp32", PROMPT_DEPTH_VISION=12)),
            INPUT=types.SimpleNamespace(SIZE=(224, 224)))
        design = {"trainer": "VPT", "vision_depth": 12, "vision_ctx": 8, "language_depth": 0, "language_ctx": 0}
        trainable, lr = "VPT", 0.0025
    model = clip_model.build_model(dict(state), design).float()
    torch.manual_seed(0)
    with redirect_stdout(io.StringIO()):
        custom = trainers.CustomCLIP(cfg, classnames, model).float()
    for name, p in custom.named_parameters():   # build_model: only the prompts train
        p.requires_grad_(trainable in name)
    params = [p for p in custom.parameters() if p.requires_grad]
    optim = torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=5e-4)
    custom.train()

    def step():
        if args.method == "maple":
            loss = custom(images, labels)
        else:
            loss = custom(images, labels, training=True)
        optim.zero_grad()
        loss.backward()
        optim.step()
    return step, sum(p.numel() for p in params)


def clip_lora(args, state, images, labels, classnames):
    from make_lora_fixtures import backport_torch2_functional
    backport_torch2_functional()
    clip_clip, clip_model = repo_clip(args.repo)
    from loralib.utils import apply_lora, mark_only_lora_as_trainable, get_lora_parameters
    model = clip_model.build_model(dict(state)).float()
    lora_args = types.SimpleNamespace(encoder="both", position="all", params=["q", "k", "v"], r=2, alpha=1,
                                      dropout_rate=0.25, backbone="ViT-B/16")
    torch.manual_seed(0)
    apply_lora(lora_args, model)
    mark_only_lora_as_trainable(model)
    params = get_lora_parameters(model)
    optimizer = torch.optim.AdamW(params, weight_decay=1e-2, betas=(0.9, 0.999), lr=2e-4)
    template = "a photo of a {}."
    model.train()

    def step():   # lora.py run_lora, one iteration (encoder both)
        texts = [template.format(c.replace("_", " ")) for c in classnames]
        texts = clip_clip.tokenize(texts)
        class_embeddings = model.encode_text(texts)
        text_features = class_embeddings / class_embeddings.norm(dim=-1, keepdim=True)
        image_features = model.encode_image(images)
        image_features = image_features / image_features.norm(dim=-1, keepdim=True)
        loss = F.cross_entropy(100.0 * image_features @ text_features.t(), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return step, sum(p.numel() for p in params)


def bitfit(args, state, images, labels, classnames):
    clip_clip, clip_model = repo_clip(args.repo)
    spec = importlib.util.spec_from_file_location("twosfs_model_utils", os.path.join(args.repo, "fs", "utils", "model_utils.py"))
    model_utils = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(model_utils)
    model = clip_model.build_model(dict(state)).float()
    with redirect_stdout(io.StringIO()):
        params = model_utils.trainable_bias_params(model, modality="both", vision_start=0, text_start=0)
    optimizer = torch.optim.AdamW(params, lr=2e-4, weight_decay=1e-2, betas=(0.9, 0.999))
    tokenized_texts = clip_clip.tokenize(["a photo of a {}.".format(c.replace("_", " ")) for c in classnames])
    model.train()

    def step():   # twostage.py train_epoch, one iteration (ln_modality both: gradients through both towers)
        text_features = model.encode_text(tokenized_texts)
        image_features = model.encode_image(images)
        text_features = text_features / text_features.norm(dim=-1, keepdim=True)
        image_features = image_features / image_features.norm(dim=-1, keepdim=True)
        loss = F.cross_entropy(model.logit_scale.exp() * image_features @ text_features.t(), labels)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return step, sum(p.numel() for p in params)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--method", required=True, choices=["maple", "vpt", "clip-lora", "bitfit"])
    parser.add_argument("--repo", required=True, help="multimodal-prompt-learning (maple, vpt), CLIP-LoRA (clip-lora) or CoOpLoraSquared- (bitfit)")
    parser.add_argument("--ftfy", required=True, help="checkout of rspeer/python-ftfy")
    parser.add_argument("--clip", required=True, help="a ViT-B/16 CLIP state dict (bench_methods_official.py --make-vit-b16)")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--steps", type=int, default=2)
    args = parser.parse_args()
    args.repo, args.ftfy = os.path.abspath(args.repo), os.path.abspath(args.ftfy)
    torch.set_num_threads(args.threads)
    stand_ins()
    sys.path.insert(0, args.ftfy)
    state = torch.load(args.clip, map_location="cpu")
    g = torch.Generator().manual_seed(0)
    images = torch.randn(BATCH, 3, 224, 224, generator=g)
    labels = torch.arange(BATCH) % CLASSES
    classnames = [f"class {i}" for i in range(CLASSES)]
    half = torch.Tensor.half
    torch.Tensor.half = lambda self, *a, **k: self   # MaPLe/VPT cast prompts to fp16 for the GPU's fp16 CLIP; fp32 here
    try:
        build = {"clip-lora": clip_lora, "bitfit": bitfit}.get(args.method, prompt_method)
        step, trainable = build(args, state, images, labels, classnames)
        step()   # untimed
        times = []
        for _ in range(args.steps):
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
    finally:
        torch.Tensor.half = half
    print(json.dumps({"side": "official", "method": args.method, "threads": torch.get_num_threads(), "batch": BATCH,
                      "classes": CLASSES, "step_s": times, "trainable_parameters": trainable,
                      "official": commit_of(args.repo), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
