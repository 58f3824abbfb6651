#!/usr/bin/python3
"""Reference fixtures for the TorchSharp CLIP model (tests/Peft.Tests/Fixtures/clip).

Builds small random-weight CLIP models with the official openai/CLIP code (clip/model.py, imported from a
checkout given on the command line, never copied into this project), saves them in every checkpoint format
the C# loaders read, and records inputs and the expected encode_image / encode_text outputs:

  vit_jit.pt            OpenAI-style TorchScript archive (traced, fp16 weights as convert_weights leaves them,
                        plus the input_resolution / context_length / vocab_size entries of the real archives)
  vit_state_dict.pt     torch.save(model.state_dict()) in fp32
  vit_fp16.safetensors  the same state dict, every tensor fp16
  vit_hf/               Hugging Face CLIPModel folder (config.json + model.safetensors, fp16), keys mapped as
                        transformers' convert_clip_original_pytorch_to_hf.py does, incl. position_ids buffers
  vit_hf_sharded/       the same as two safetensors shards + model.safetensors.index.json
  vit_hf_bin/           the same as pytorch_model.bin (torch.save)
  rn_jit.pt             ModifiedResNet model as a TorchScript archive (fp16 convs/linears)
  rn_checkpoint.pt      open_clip-style training checkpoint {"epoch", "state_dict": {"module." + key: ...}}
  bad_*.pt              a TorchScript archive without CLIP weights; a pickled nn.Module (not a state dict)
  <model>_<format>.expected.safetensors   images, tokens, image_features, text_features (float32)

Expected features come from clip.model.build_model(<the weights exactly as stored>).float(), i.e. what
clip.load(..., jit=False, device="cpu") computes for that file.

Usage (Debian 12: apt install python3-torch python3-numpy libopenblas0-pthread):
  git --git-dir=<openai/CLIP git dir> archive HEAD | tar x -C /tmp/clip-src
  /usr/bin/python3 tools/reference/make_clip_fixtures.py --clip-src /tmp/clip-src --out tests/Peft.Tests/Fixtures/clip
  # full-size comparison (not committed): ViT-B/16 and RN50 with random weights
  /usr/bin/python3 tools/reference/make_clip_fixtures.py --clip-src /tmp/clip-src --out /tmp/clip-full --full
"""
import argparse
import importlib.util
import json
import os
import struct
import sys

import numpy as np
import torch


def import_clip_model(src):
    path = os.path.join(src, "clip", "model.py")
    spec = importlib.util.spec_from_file_location("openai_clip_model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ST_DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.int64: "I64",
             torch.int32: "I32", torch.uint8: "U8", torch.bool: "BOOL", torch.float64: "F64"}


def write_safetensors(path, tensors, metadata=None):
    """Minimal safetensors writer (the safetensors package is not in Debian 12)."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        data = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.dtype != torch.bool else t.numpy().tobytes()
        header[name] = {"dtype": ST_DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


def randomize(model, gen):
    """Random values everywhere (init leaves zeros/ones in LayerNorm, BN and biases; bn3 is zero-init)."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name == "logit_scale":
                p.fill_(float(np.log(50.0)))
            elif p.dim() == 4:  # convolutions: He-style scale so 16 bottlenecks neither vanish nor overflow
                p.normal_(0.0, (2.0 / p[0].numel()) ** 0.5, generator=gen)
            elif p.dim() >= 2:
                p.normal_(0.0, (1.0 / p.shape[-1]) ** 0.5, generator=gen)
            else:
                is_norm_weight = name.endswith("weight") and ("ln" in name or "bn" in name or "downsample.1" in name)
                base = (0.3 if "bn3" in name else 1.0) if is_norm_weight else 0.0  # damp residual branches
                p.copy_(base + 0.1 * torch.randn(p.shape, generator=gen))
        for name, b in model.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(0.1 * torch.randn(b.shape, generator=gen))
            elif name.endswith("running_var"):
                b.copy_(0.5 + torch.rand(b.shape, generator=gen))


def make_inputs(resolution, vocab, context, gen, n_img=3, n_txt=4):
    images = torch.randn(n_img, 3, resolution, resolution, generator=gen)
    tokens = torch.zeros(n_txt, context, dtype=torch.int64)
    eot = vocab - 1  # pooled at the argmax id, as the real EOT (49407) is the largest id
    lengths = [3, 10, context - 1, 1][:n_txt]
    for i, n in enumerate(lengths):
        tokens[i, 0] = vocab - 2  # "start of text"
        tokens[i, 1:n] = torch.randint(1, vocab - 2, (n - 1,), generator=gen)
        tokens[i, n] = eot
    return images, tokens


def expected(clip_model, state_dict, images, tokens):
    # build_model infers the architecture (official code) but rounds weights to fp16 (convert_weights);
    # reload the stored values into the fp32 model so it computes with exactly the weights of the file.
    sd = {k: v.clone() for k, v in state_dict.items()}
    model = clip_model.build_model({k: v.clone() for k, v in sd.items()}).float().eval()
    model.load_state_dict({k: v.float() for k, v in sd.items()})
    with torch.no_grad():
        return model.encode_image(images), model.encode_text(tokens)


def save_expected(path, images, tokens, feats):
    write_safetensors(path, {"images": images, "tokens": tokens,
                             "image_features": feats[0].float(), "text_features": feats[1].float()})


def to_jit_archive(clip_model, model, path, images, tokens, resolution, context, vocab):
    """Trace in fp32, then store the weights as convert_weights would (fp16 convs/linears/projections)."""
    model = model.eval()
    for attr in ("context_length", "vocab_size"):  # plain ints on the eager model; tensors in the archives
        delattr(model, attr)
    model.register_buffer("input_resolution", torch.tensor(resolution))
    model.register_buffer("context_length", torch.tensor(context))
    model.register_buffer("vocab_size", torch.tensor(vocab))
    traced = torch.jit.trace_module(model, {"encode_image": images, "encode_text": tokens})
    reference = {k: v for k, v in model.state_dict().items()}
    probe = clip_model.build_model({k: v.clone() for k, v in reference.items()
                                    if k not in ("input_resolution", "context_length", "vocab_size")})
    half_names = {k for k, v in probe.state_dict().items() if v.dtype == torch.float16}
    with torch.no_grad():
        for name, p in traced.named_parameters():
            if name in half_names:
                p.data = p.data.half()
    traced.save(path)
    return torch.jit.load(path, map_location="cpu").state_dict()


def hf_state_dict(sd, vision_layers, text_layers):
    """OpenAI names -> transformers CLIPModel names (convert_clip_original_pytorch_to_hf.py semantics)."""
    out = {}
    out["vision_model.embeddings.patch_embedding.weight"] = sd["visual.conv1.weight"]
    out["vision_model.embeddings.class_embedding"] = sd["visual.class_embedding"]
    out["vision_model.embeddings.position_embedding.weight"] = sd["visual.positional_embedding"]
    out["vision_model.embeddings.position_ids"] = torch.arange(sd["visual.positional_embedding"].shape[0]).unsqueeze(0)
    for s in ("weight", "bias"):
        out[f"vision_model.pre_layrnorm.{s}"] = sd[f"visual.ln_pre.{s}"]
        out[f"vision_model.post_layernorm.{s}"] = sd[f"visual.ln_post.{s}"]
        out[f"text_model.final_layer_norm.{s}"] = sd[f"ln_final.{s}"]
    out["visual_projection.weight"] = sd["visual.proj"].t().contiguous()
    out["text_projection.weight"] = sd["text_projection"].t().contiguous()
    out["text_model.embeddings.token_embedding.weight"] = sd["token_embedding.weight"]
    out["text_model.embeddings.position_embedding.weight"] = sd["positional_embedding"]
    out["text_model.embeddings.position_ids"] = torch.arange(sd["positional_embedding"].shape[0]).unsqueeze(0)
    out["logit_scale"] = sd["logit_scale"]
    for tower, src, layers in (("vision_model", "visual.transformer", vision_layers), ("text_model", "transformer", text_layers)):
        for i in range(layers):
            a, b = f"{src}.resblocks.{i}.", f"{tower}.encoder.layers.{i}."
            for s in ("weight", "bias"):
                q, k, v = sd[a + f"attn.in_proj_{s}"].chunk(3, dim=0)
                out[b + f"self_attn.q_proj.{s}"], out[b + f"self_attn.k_proj.{s}"], out[b + f"self_attn.v_proj.{s}"] = q, k, v
                out[b + f"self_attn.out_proj.{s}"] = sd[a + f"attn.out_proj.{s}"]
                out[b + f"layer_norm1.{s}"] = sd[a + f"ln_1.{s}"]
                out[b + f"layer_norm2.{s}"] = sd[a + f"ln_2.{s}"]
                out[b + f"mlp.fc1.{s}"] = sd[a + f"mlp.c_fc.{s}"]
                out[b + f"mlp.fc2.{s}"] = sd[a + f"mlp.c_proj.{s}"]
    return {k: v.contiguous() for k, v in out.items()}


def hf_config(embed, vision_width, vision_layers, patch, resolution, text_width, text_layers, vocab, context):
    return {
        "architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": embed, "logit_scale_init_value": 2.6592,
        "text_config": {"hidden_size": text_width, "intermediate_size": 4 * text_width, "num_attention_heads": text_width // 64,
                        "num_hidden_layers": text_layers, "vocab_size": vocab, "max_position_embeddings": context,
                        "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5, "projection_dim": embed},
        "vision_config": {"hidden_size": vision_width, "intermediate_size": 4 * vision_width,
                          "num_attention_heads": vision_width // 64, "num_hidden_layers": vision_layers,
                          "image_size": resolution, "patch_size": patch, "hidden_act": "quick_gelu",
                          "layer_norm_eps": 1e-5, "projection_dim": embed},
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clip-src", required=True, help="checkout of openai/CLIP (the folder holding clip/model.py)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--full", action="store_true", help="ViT-B/16 and RN50 at full size (random weights)")
    args = ap.parse_args()
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    clip_model = import_clip_model(args.clip_src)
    os.makedirs(args.out, exist_ok=True)
    gen = torch.Generator().manual_seed(20261128)

    if args.full:
        vit = dict(embed=512, res=224, vlayers=12, vwidth=768, patch=16, ctx=77, vocab=49408, twidth=512, theads=8, tlayers=12)
        rn = dict(embed=1024, res=224, vlayers=(3, 4, 6, 3), vwidth=64, patch=None, ctx=77, vocab=49408, twidth=512, theads=8, tlayers=12)
    else:
        vit = dict(embed=96, res=32, vlayers=2, vwidth=128, patch=8, ctx=77, vocab=1000, twidth=128, theads=2, tlayers=2)
        rn = dict(embed=80, res=64, vlayers=(1, 2, 1, 1), vwidth=8, patch=None, ctx=77, vocab=600, twidth=128, theads=2, tlayers=1)

    def build(c):
        m = clip_model.CLIP(c["embed"], c["res"], c["vlayers"], c["vwidth"], c["patch"], c["ctx"], c["vocab"],
                            c["twidth"], c["theads"], c["tlayers"])
        randomize(m, gen)
        return m.eval()

    # ViT
    model = build(vit)
    images, tokens = make_inputs(vit["res"], vit["vocab"], vit["ctx"], gen)
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    torch.save(sd, os.path.join(args.out, "vit_state_dict.pt"))
    save_expected(os.path.join(args.out, "vit_state_dict.expected.safetensors"), images, tokens, expected(clip_model, sd, images, tokens))
    if not args.full:
        half = {k: v.half() for k, v in sd.items()}
        write_safetensors(os.path.join(args.out, "vit_fp16.safetensors"), half, {"format": "pt"})
        save_expected(os.path.join(args.out, "vit_fp16.expected.safetensors"), images, tokens, expected(clip_model, half, images, tokens))
        # Hugging Face folders (fp16 weights to keep the fixtures small): one safetensors file, two shards with
        # an index, and a pytorch_model.bin.
        hf = {k: (v.half() if v.is_floating_point() else v) for k, v in hf_state_dict(sd, vit["vlayers"], vit["tlayers"]).items()}
        config = hf_config(vit["embed"], vit["vwidth"], vit["vlayers"], vit["patch"], vit["res"], vit["twidth"],
                           vit["tlayers"], vit["vocab"], vit["ctx"])
        for variant in ("vit_hf", "vit_hf_sharded", "vit_hf_bin"):
            folder = os.path.join(args.out, variant)
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, "config.json"), "w") as f:
                json.dump(config, f, indent=2)
            if variant == "vit_hf":
                write_safetensors(os.path.join(folder, "model.safetensors"), hf, {"format": "pt"})
            elif variant == "vit_hf_bin":
                torch.save(hf, os.path.join(folder, "pytorch_model.bin"))
            else:
                names = sorted(hf)
                shards = {"model-00001-of-00002.safetensors": names[: len(names) // 2],
                          "model-00002-of-00002.safetensors": names[len(names) // 2:]}
                for shard, keys in shards.items():
                    write_safetensors(os.path.join(folder, shard), {k: hf[k] for k in keys}, {"format": "pt"})
                with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
                    json.dump({"metadata": {}, "weight_map": {k: shard for shard, keys in shards.items() for k in keys}}, f, indent=2)
            save_expected(os.path.join(args.out, f"{variant}.expected.safetensors"), images, tokens, expected(clip_model, half, images, tokens))
        jit_sd = to_jit_archive(clip_model, build_copy(clip_model, sd), os.path.join(args.out, "vit_jit.pt"), images, tokens, vit["res"], vit["ctx"], vit["vocab"])
        jit_sd = {k: v for k, v in jit_sd.items() if k not in ("input_resolution", "context_length", "vocab_size")}
        save_expected(os.path.join(args.out, "vit_jit.expected.safetensors"), images, tokens, expected(clip_model, jit_sd, images, tokens))

    # ModifiedResNet
    model = build(rn)
    images, tokens = make_inputs(rn["res"], rn["vocab"], rn["ctx"], gen)
    sd = {k: v.clone() for k, v in model.state_dict().items()}
    if args.full:
        torch.save(sd, os.path.join(args.out, "rn_state_dict.pt"))
        save_expected(os.path.join(args.out, "rn_state_dict.expected.safetensors"), images, tokens, expected(clip_model, sd, images, tokens))
    else:
        torch.save({"epoch": 3, "name": "fixture", "state_dict": {"module." + k: v for k, v in sd.items()}},
                   os.path.join(args.out, "rn_checkpoint.pt"))
        save_expected(os.path.join(args.out, "rn_checkpoint.expected.safetensors"), images, tokens, expected(clip_model, sd, images, tokens))
        jit_sd = to_jit_archive(clip_model, build_copy(clip_model, sd), os.path.join(args.out, "rn_jit.pt"), images, tokens, rn["res"], rn["ctx"], rn["vocab"])
        jit_sd = {k: v for k, v in jit_sd.items() if k not in ("input_resolution", "context_length", "vocab_size")}
        save_expected(os.path.join(args.out, "rn_jit.expected.safetensors"), images, tokens, expected(clip_model, jit_sd, images, tokens))
        # Bad input: a TorchScript archive without CLIP weights, and a pickled module instead of a state dict.
        torch.jit.script(torch.nn.Linear(3, 2)).save(os.path.join(args.out, "bad_not_clip_jit.pt"))
        torch.save(torch.nn.Linear(3, 2), os.path.join(args.out, "bad_pickled_module.pt"))
    print("fixtures written to", args.out)


def build_copy(clip_model, sd):
    """A fresh fp32 eager model holding exactly `sd` (build_model rounds to fp16; reload the fp32 values)."""
    model = clip_model.build_model({k: v.clone() for k, v in sd.items()}).float().eval()
    model.load_state_dict(sd)
    return model


if __name__ == "__main__":
    main()
