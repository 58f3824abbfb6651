#!/usr/bin/python3
"""Reference fixture for CLIP-LoRA inside the frozen towers (tests/Peft.Tests/Fixtures/encoder/clip_lora.safetensors).

Runs the official CLIP-LoRA code (MaxZanella/CLIP-LoRA: clip/model.py and loralib/, imported from a checkout
given on the command line, never copied into this project) on the small random-weight ViT CLIP of
Fixtures/clip/vit_state_dict.pt:

  apply_lora(encoder='both', position='all', params=['q','k','v','o'], r=2, alpha=1) replaces every attention
  block of both towers by PlainMultiheadAttentionLoRA; the LoRA matrices are then set to seeded random values
  (B is zero after the official init, which would make the check trivial).

Recorded (float32): the inputs (images, tokens, labels), every LoRA matrix as lora/<tower>/<block>/<proj>/{A,B}
(tower visual|text, proj q|k|v|o; A is [r, in], B is [out, r] as in loralib), the adapted image and text
features (encode_image / encode_text), the loss of one CLIP-LoRA training step (cross-entropy of
100 · normalised image @ normalised text features, lora.py's run_lora) and its gradient for every LoRA matrix
(grad/<tower>/<block>/<proj>/{A,B}).

The step runs in train mode through the branch of LinearLoRA.forward that the published dropout_rate (0.25) selects
(original output + dropout(x) @ (B@A)ᵀ · scaling), with the dropout probability then set to 0 so no random mask
enters; the C# tests check the dropout on its own. (With dropout_rate=0 loralib takes another branch: it adds
scaling·B@A to the weight for the forward and subtracts it again through .data before backward, so the gradients
reaching earlier blocks are computed with the unadapted weights; that branch is not the published setting.)

Usage (Debian 12: apt install python3-torch python3-numpy libopenblas0-pthread):
  git --git-dir=<MaxZanella/CLIP-LoRA git dir> archive HEAD | tar x -C /tmp/clip-lora
  /usr/bin/python3 tools/reference/make_lora_fixtures.py --src /tmp/clip-lora --out tests/Peft.Tests/Fixtures/encoder
"""
import argparse
import math
import importlib.util
import os
import sys
import types

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_clip_fixtures import write_safetensors  # noqa: E402


def backport_torch2_functional():
    """loralib calls three torch>=2.0 functions that Debian 12's torch 1.13 lacks; these follow their documented
    definitions (torch.nn.functional.scaled_dot_product_attention's reference formula, attention dropout 0)."""
    if not hasattr(F, "scaled_dot_product_attention"):
        def sdpa(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False):
            assert dropout_p == 0.0
            scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
            if is_causal:
                scores = scores.masked_fill(torch.ones(q.size(-2), k.size(-2), dtype=torch.bool).triu(1), float("-inf"))
            if attn_mask is not None:
                scores = scores + attn_mask
            return scores.softmax(dim=-1) @ v
        F.scaled_dot_product_attention = sdpa
    if not hasattr(F, "_none_or_dtype"):
        F._none_or_dtype = lambda x: None if x is None else x.dtype
    if not hasattr(F, "_canonical_mask"):
        def canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
            if mask is None or torch.is_floating_point(mask):
                return mask
            return torch.zeros_like(mask, dtype=target_type).masked_fill_(mask, float("-inf"))
        F._canonical_mask = canonical_mask


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", required=True, help="a checkout of MaxZanella/CLIP-LoRA")
    ap.add_argument("--out", required=True)
    ap.add_argument("--weights", default=os.path.join(os.path.dirname(__file__), "../../tests/Peft.Tests/Fixtures/clip/vit_state_dict.pt"))
    a = ap.parse_args()
    sys.path.insert(0, a.src)
    backport_torch2_functional()
    # The repository's own copy of openai/CLIP's model.py, loaded by path (clip/__init__.py needs torchvision).
    spec = importlib.util.spec_from_file_location("clip_lora_model", os.path.join(a.src, "clip", "model.py"))
    clip_model = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(clip_model)
    from loralib.utils import apply_lora, mark_only_lora_as_trainable
    from loralib.layers import LinearLoRA

    torch.manual_seed(0)
    sd = torch.load(a.weights, map_location="cpu")
    # build_model infers the architecture but rounds the weights to fp16 (convert_weights); reload the stored fp32
    # values so the official code computes with exactly the weights of the file, as the C# model does.
    model = clip_model.build_model({k: v.clone() for k, v in sd.items()}).float()
    model.load_state_dict(sd)
    args = types.SimpleNamespace(encoder="both", position="all", params=["q", "k", "v", "o"], r=2, alpha=1,
                                 dropout_rate=0.25, backbone="ViT-B/16")
    layers = apply_lora(args, model)
    mark_only_lora_as_trainable(model)

    g = torch.Generator().manual_seed(1234)
    out = {}
    towers = [("text", model.transformer.resblocks), ("visual", model.visual.transformer.resblocks)]
    names = {"q": "q_proj", "k": "k_proj", "v": "v_proj", "o": "proj"}
    lora = {}
    with torch.no_grad():
        for tower, blocks in towers:
            for b, block in enumerate(blocks):
                for p, attr in names.items():
                    lin = getattr(block.attn, attr)
                    assert isinstance(lin, LinearLoRA) and lin.dropout is not None
                    lin.dropout.p = 0.0  # the published (dropout) branch of LinearLoRA.forward, without random masks
                    lin.w_lora_A.copy_(torch.randn(lin.w_lora_A.shape, generator=g) * 0.1)
                    lin.w_lora_B.copy_(torch.randn(lin.w_lora_B.shape, generator=g) * 0.1)
                    lora[(tower, b, p)] = lin
                    out[f"lora/{tower}/{b}/{p}/A"] = lin.w_lora_A.detach().clone()
                    out[f"lora/{tower}/{b}/{p}/B"] = lin.w_lora_B.detach().clone()

    res = model.visual.input_resolution
    images = torch.randn(4, 3, res, res, generator=g)
    ctx, vocab = model.context_length, model.vocab_size
    tokens = torch.zeros(3, ctx, dtype=torch.int64)
    for i, n in enumerate([5, 9, 3]):
        tokens[i, 0] = vocab - 2                                  # start of text
        tokens[i, 1:1 + n] = torch.randint(1, vocab - 2, (n,), generator=g)
        tokens[i, 1 + n] = vocab - 1                              # end of text: the argmax the text tower pools at
    labels = torch.tensor([0, 2, 1, 2])

    model.train()
    image_features = model.encode_image(images)
    text_features = model.encode_text(tokens)
    img = image_features / image_features.norm(dim=-1, keepdim=True)
    txt = text_features / text_features.norm(dim=-1, keepdim=True)
    loss = F.cross_entropy(100 * img @ txt.t(), labels)
    loss.backward()

    out.update(images=images, tokens=tokens, labels=labels, image_features=image_features.detach(),
               text_features=text_features.detach(), loss=loss.detach().reshape(1))
    for (tower, b, p), lin in lora.items():
        out[f"grad/{tower}/{b}/{p}/A"] = lin.w_lora_A.grad.clone()
        out[f"grad/{tower}/{b}/{p}/B"] = lin.w_lora_B.grad.clone()
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, "clip_lora.safetensors")
    write_safetensors(path, out, metadata={"source": "MaxZanella/CLIP-LoRA loralib (apply_lora, LinearLoRA)",
                                           "r": "2", "alpha": "1", "scaling": "alpha/sqrt(r)", "weights": "Fixtures/clip/vit_state_dict.pt"})
    print(f"{path}: loss {loss.item():.6f}, {len(out)} tensors")


if __name__ == "__main__":
    main()
