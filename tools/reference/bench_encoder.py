#!/usr/bin/python3
"""PyTorch fp32 image-encoder throughput for the same checkpoint the C# benchmark uses.

Builds the model with openai/CLIP's own code (imported from --clip-src, never copied), fp32, eval, no_grad,
random images of the model's resolution; prints one JSON line {"fp32": images_per_second, "matmul_fp32": GFLOP/s}.
Run by tools/bench/encoder-throughput.sh; needs Debian's python3-torch with libopenblas0-pthread.
"""
import argparse
import importlib.util
import json
import os
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clip-src", required=True)
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--batches", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    spec = importlib.util.spec_from_file_location("openai_clip_model", os.path.join(args.clip_src, "clip", "model.py"))
    clip_model = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(clip_model)

    sd = torch.load(args.checkpoint, map_location="cpu")
    model = clip_model.build_model({k: v.clone() for k, v in sd.items()}).float().eval()
    model.load_state_dict(sd)
    r = model.visual.input_resolution
    images = torch.randn(args.batch, 3, r, r, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        model.encode_image(images)
        start = time.perf_counter()
        for _ in range(args.batches):
            model.encode_image(images)
        ips = args.batch * args.batches / (time.perf_counter() - start)

        n = 2048
        a, b = torch.randn(n, n), torch.randn(n, n)
        a @ b
        start = time.perf_counter()
        for _ in range(5):
            a @ b
        gflops = 2.0 * n ** 3 * 5 / (time.perf_counter() - start) / 1e9
    print(json.dumps({"fp32": ips, "matmul_fp32": gflops, "threads": torch.get_num_threads(),
                      "torch": torch.__version__, "blas": torch.__config__.show().count("OpenBLAS") > 0}))


if __name__ == "__main__":
    main()
