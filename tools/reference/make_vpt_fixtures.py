#!/usr/bin/python3
"""Reference fixture for deep visual prompt tuning inside the image tower (tests/Peft.Tests/Fixtures/encoder/vpt.safetensors).

Runs the official VPT baseline of MaPLe (muzairkhattak/multimodal-prompt-learning @ 69bce21: clip/model.py with
design_details trainer "VPT", imported from a checkout given on the command line, never copied into this project)
on the small random-weight ViT CLIP of Fixtures/clip/vit_state_dict.pt with vision_ctx = 4 prompts and
vision_depth = 2: prompts appended after the positional embedding (VisionTransformer.VPT, before ln_pre) and, at
block 1, the last 4 tokens replaced by that block's own prompts (ResidualAttentionBlock_IVLP.VPT_shallow).

Recorded (float32): the inputs (images, tokens of the fixed class prompts, labels), both prompt tensors
(prompts/embeddings [4, width], prompts/1 [4, width]), the image features with prompts, the loss of one VPT training
step (trainers/vpt.py CustomCLIP: cross-entropy of logit_scale.exp() · normalised image @ normalised frozen text
features) and its gradient for both prompt tensors.

The official forward casts the prompts to fp16 (`.half()`) even in an fp32 model (the trainer runs CLIP in fp16);
the prompts are drawn fp16-representable so that the cast changes nothing in the forward pass. Its backward still
rounds the prompts' gradients to fp16 (relative ~5e-4), which the C# test's tolerance allows for.

Usage (Debian 12: apt install python3-torch python3-numpy libopenblas0-pthread):
  git --git-dir=<multimodal-prompt-learning git dir> archive HEAD clip | tar x -C /tmp/maple
  /usr/bin/python3 tools/reference/make_vpt_fixtures.py --src /tmp/maple --out tests/Peft.Tests/Fixtures/encoder
"""
import argparse
import importlib.util
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_clip_fixtures import write_safetensors  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True, help="a checkout of muzairkhattak/multimodal-prompt-learning")
    ap.add_argument("--out", required=True)
    ap.add_argument("--weights", default=os.path.join(os.path.dirname(__file__), "../../tests/Peft.Tests/Fixtures/clip/vit_state_dict.pt"))
    a = ap.parse_args()
    spec = importlib.util.spec_from_file_location("maple_model", os.path.join(a.src, "clip", "model.py"))
    maple = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(maple)

    torch.manual_seed(0)
    sd = torch.load(a.weights, map_location="cpu")
    design = {"trainer": "VPT", "vision_depth": 2, "vision_ctx": 4, "language_depth": 0, "language_ctx": 0}
    model = maple.build_model({k: v.clone() for k, v in sd.items()}, design).float()
    # build_model rounds the weights to fp16 (convert_weights): reload the file's fp32 values, as the C# model uses them.
    missing, unexpected = model.load_state_dict(sd, strict=False)
    assert sorted(missing) == ["visual.VPT", "visual.transformer.resblocks.1.VPT_shallow"], missing
    assert not unexpected

    g = torch.Generator().manual_seed(4321)
    first, deep = model.visual.VPT, model.visual.transformer.resblocks[1].VPT_shallow
    with torch.no_grad():
        first.copy_((torch.randn(first.shape, generator=g) * 0.5).half().float())
        deep.copy_((torch.randn(deep.shape, generator=g) * 0.5).half().float())
    for name, p in model.named_parameters():
        p.requires_grad_("VPT" in name)

    res = model.visual.input_resolution
    images = torch.randn(4, 3, res, res, generator=g)
    ctx, vocab = model.context_length, model.vocab_size
    tokens = torch.zeros(3, ctx, dtype=torch.int64)
    for i, n in enumerate([4, 6, 2]):
        tokens[i, 0] = vocab - 2
        tokens[i, 1:1 + n] = torch.randint(1, vocab - 2, (n,), generator=g)
        tokens[i, 1 + n] = vocab - 1
    labels = torch.tensor([2, 0, 1, 1])

    model.train()
    with torch.no_grad():
        text = model.encode_text(tokens)  # FixedEmbeddings: the frozen text tower
    image = model.encode_image(images)
    logits = model.logit_scale.exp() * (image / image.norm(dim=-1, keepdim=True)) @ (text / text.norm(dim=-1, keepdim=True)).t()
    loss = F.cross_entropy(logits, labels)
    loss.backward()

    out = {"images": images, "tokens": tokens, "labels": labels, "prompts/embeddings": first.detach().clone(),
           "prompts/1": deep.detach().clone(), "image_features": image.detach(), "text_features": text,
           "loss": loss.detach().reshape(1), "grad/embeddings": first.grad.clone(), "grad/1": deep.grad.clone()}
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, "vpt.safetensors")
    write_safetensors(path, out, metadata={"source": "muzairkhattak/multimodal-prompt-learning@69bce21 clip/model.py (VPT)",
                                           "vision_ctx": "4", "vision_depth": "2", "weights": "Fixtures/clip/vit_state_dict.pt"})
    print(f"{path}: loss {loss.item():.6f}")


if __name__ == "__main__":
    main()
