#!/usr/bin/python3
"""Reference fixture for MaPLe's coupled prompts in both towers (tests/Peft.Tests/Fixtures/encoder/maple.safetensors).

Runs the official MaPLe code (muzairkhattak/multimodal-prompt-learning @ 69bce21: trainers/maple.py's
MultiModalPromptLearner, TextEncoder and CustomCLIP, clip/model.py with trainer "MaPLe"; imported from a checkout
given on the command line, never copied into this project) on the small random-weight ViT CLIP of
Fixtures/clip/vit_state_dict.pt, with N_CTX = 2, CTX_INIT "a photo of a", PROMPT_DEPTH = 2.

What the script changes around the official code, and why:
- trainers/maple.py imports Dassl and clip/clip.py imports torchvision, PIL, tqdm and the BPE tokenizer (ftfy, regex),
  none of which Debian 12 ships (or this check needs): stand-ins are registered under those module names first.
- MultiModalPromptLearner hard-codes ViT-B/16's widths: 768 (the image tower) in its two nn.Linear(ctx_dim, 768) and
  512 (the text tower) in torch.empty(n_ctx, 512). The source is read and those three literals are replaced by the
  small model's widths before it is executed; nothing else is edited.
- The small model's vocabulary has 1,000 ids, so clip.tokenize is replaced by a deterministic word → id map
  (start 998, end 999); the token ids it produced are recorded, and the C# test starts from them.

Recorded (float32): images, labels, the class prompts' token ids, the initial context's token ids, every prompt-learner
parameter after a seeded re-draw (ctx, proj.weight/bias, compound_prompts_text.0, compound_prompt_projections.0.weight/
bias), the text features of every class and the image features through CustomCLIP's towers, the loss of one training
step (cross-entropy of logit_scale.exp() · cosine similarity) and the gradient of every prompt-learner parameter.
- The official forward casts prompts with .half() (the trainer runs CLIP in fp16); the model is fp32 here, and the
  projected visual prompts are not fp16-representable, so Tensor.half is made the identity for the forward and
  backward pass: the fixture is the fp32 computation of the same code, which the C# side (fp32, no casts) matches.

Usage (Debian 12: apt install python3-torch python3-numpy libopenblas0-pthread):
  git --git-dir=<multimodal-prompt-learning git dir> archive HEAD clip trainers | tar x -C /tmp/maple
  /usr/bin/python3 tools/reference/make_maple_fixtures.py --src /tmp/maple --out tests/Peft.Tests/Fixtures/encoder
"""
import argparse
import os
import sys
import types

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_clip_fixtures import write_safetensors  # noqa: E402


def stub(name, **attrs):
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    sys.modules[name] = module
    return module


def register_stand_ins():
    class Registry:
        def register(self):
            return lambda cls: cls
    stub("dassl")
    stub("dassl.engine", TRAINER_REGISTRY=Registry(), TrainerX=object)
    stub("dassl.metrics", compute_accuracy=None)
    stub("dassl.utils", load_pretrained_weights=None, load_checkpoint=None)
    stub("dassl.optim", build_optimizer=None, build_lr_scheduler=None)
    if "torchvision" not in sys.modules:
        stub("torchvision")
        stub("torchvision.transforms", Compose=None, Resize=None, CenterCrop=None, ToTensor=None, Normalize=None,
             InterpolationMode=types.SimpleNamespace(BICUBIC=3))
    # The BPE tokenizer (ftfy, regex) is replaced by small_tokenize below; maple.py only builds one at import time.
    stub("clip.simple_tokenizer", SimpleTokenizer=lambda: types.SimpleNamespace(encode=lambda text: text.split()))
    for name in ("PIL", "tqdm"):
        try:
            __import__(name)
        except ImportError:
            stub(name, Image=types.SimpleNamespace(BICUBIC=3), tqdm=None)
            if name == "PIL":
                stub("PIL.Image", BICUBIC=3)


WORDS = {}


def small_tokenize(texts, context_length=77, truncate=False):
    """Stand-in for clip.tokenize on a 1,000-id vocabulary: each new word gets the next id from 1."""
    if isinstance(texts, str):
        texts = [texts]
    out = torch.zeros(len(texts), context_length, dtype=torch.long)
    for i, text in enumerate(texts):
        ids = [998] + [WORDS.setdefault(w, len(WORDS) + 1) for w in text.replace(".", " .").split()] + [999]
        out[i, :len(ids)] = torch.tensor(ids)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True, help="a checkout of muzairkhattak/multimodal-prompt-learning")
    ap.add_argument("--out", required=True)
    ap.add_argument("--weights", default=os.path.join(os.path.dirname(__file__), "../../tests/Peft.Tests/Fixtures/clip/vit_state_dict.pt"))
    a = ap.parse_args()
    register_stand_ins()
    sys.path.insert(0, a.src)
    from clip import clip as clip_module
    from clip import model as clip_model_module

    sd = torch.load(a.weights, map_location="cpu")
    text_width, vision_width = sd["ln_final.weight"].shape[0], sd["visual.ln_post.weight"].shape[0]
    source = open(os.path.join(a.src, "trainers", "maple.py")).read()
    for literal, width in (("nn.Linear(ctx_dim, 768)", vision_width), ("torch.empty(n_ctx, 512)", None)):
        assert source.count(literal) >= 1, literal
    source = source.replace("nn.Linear(ctx_dim, 768)", f"nn.Linear(ctx_dim, {vision_width})")
    source = source.replace("torch.empty(n_ctx, 512)", f"torch.empty(n_ctx, {text_width})")
    maple = types.ModuleType("maple_trainer")
    maple.__file__ = os.path.join(a.src, "trainers", "maple.py")
    exec(compile(source, maple.__file__, "exec"), maple.__dict__)
    clip_module.tokenize = small_tokenize

    design = {"trainer": "MaPLe", "vision_depth": 0, "language_depth": 0, "vision_ctx": 0, "language_ctx": 0, "maple_length": 2}
    model = clip_model_module.build_model({k: v.clone() for k, v in sd.items()}, design).float()
    model.load_state_dict(sd)  # build_model rounds to fp16; the file's fp32 values, as the C# model uses them

    cfg = types.SimpleNamespace(
        TRAINER=types.SimpleNamespace(MAPLE=types.SimpleNamespace(N_CTX=2, CTX_INIT="a photo of a", PROMPT_DEPTH=2, PREC="fp32")),
        INPUT=types.SimpleNamespace(SIZE=(model.visual.input_resolution, model.visual.input_resolution)))
    classnames = ["red_circle", "blue square", "green triangle of doom"]
    torch.manual_seed(0)
    custom = maple.CustomCLIP(cfg, classnames, model).float()
    learner = custom.prompt_learner
    g = torch.Generator().manual_seed(2468)
    with torch.no_grad():
        for name, p in learner.named_parameters():
            p.copy_((torch.randn(p.shape, generator=g) * (0.5 if "ctx" in name or "compound_prompts_text" in name else 0.1)).half().float())
    for name, p in custom.named_parameters():
        p.requires_grad_("prompt_learner" in name)

    res = model.visual.input_resolution
    images = torch.randn(4, 3, res, res, generator=g)
    labels = torch.tensor([1, 0, 2, 2])
    learner.train()
    half = torch.Tensor.half
    torch.Tensor.half = lambda self, *args, **kwargs: self
    prompts, shared_ctx, deep_text, deep_vision = learner()
    text = custom.text_encoder(prompts, custom.tokenized_prompts, deep_text)
    image = custom.image_encoder(images, shared_ctx, deep_vision)
    logits = custom.logit_scale.exp() * (image / image.norm(dim=-1, keepdim=True)) @ (text / text.norm(dim=-1, keepdim=True)).t()
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    torch.Tensor.half = half

    out = {"images": images, "labels": labels, "tokens": custom.tokenized_prompts.clone(),
           "ctx_init_tokens": small_tokenize("a photo of a")[0], "text_features": text.detach(), "image_features": image.detach(),
           "loss": loss.detach().reshape(1)}
    for name, p in learner.named_parameters():
        out[f"param/{name}"] = p.detach().clone()
        out[f"grad/{name}"] = p.grad.clone()
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, "maple.safetensors")
    write_safetensors(path, out, metadata={"source": "muzairkhattak/multimodal-prompt-learning@69bce21 trainers/maple.py, clip/model.py (MaPLe)",
                                           "n_ctx": "2", "prompt_depth": "2", "classnames": "|".join(classnames)})
    print(f"{path}: loss {loss.item():.6f}; parameters {[n for n, _ in learner.named_parameters()]}")


if __name__ == "__main__":
    main()
