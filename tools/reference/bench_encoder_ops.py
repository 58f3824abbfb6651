"""The operations of one ViT-B/16 transformer block, timed one by one as PyTorch 1.13 runs openai/CLIP's
ResidualAttentionBlock: LayerNorm (fp32), nn.MultiheadAttention's fused in-projection, its attention (scaled q,
bmm, softmax, bmm), out-projection, c_fc, QuickGELU x * sigmoid(1.702 x), c_proj, residual add. Measured as
`Peft.Benchmarks encoder-ops` measures ours (fastest of 5 timed runs of enough repeats for >= 50 ms).

Usage: bench_encoder_ops.py [batch] [threads]   Prints one JSON line (milliseconds per op, fp32).
Run with Debian's /usr/bin/python3 (python3-torch, libopenblas0-pthread).
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_gemm import best_seconds  # noqa: E402  (the same timing rule as the matmul benchmark)

WIDTH, HEADS, TOKENS = 768, 12, 197


def main():
    batch = int(sys.argv[1]) if len(sys.argv) > 1 else 32
    if len(sys.argv) > 2:
        torch.set_num_threads(int(sys.argv[2]))
    g = torch.Generator().manual_seed(1)
    r = lambda *shape: torch.randn(*shape, generator=g) * 0.02
    x = torch.randn(TOKENS, batch, WIDTH, generator=g)        # CLIP's transformer runs sequence-first (L, N, D)
    ln = torch.nn.LayerNorm(WIDTH)
    w_qkv, b_qkv, w_out, b_out = r(3 * WIDTH, WIDTH), r(3 * WIDTH), r(WIDTH, WIDTH), r(WIDTH)
    w_fc, b_fc, w_proj, b_proj = r(4 * WIDTH, WIDTH), r(4 * WIDTH), r(WIDTH, 4 * WIDTH), r(WIDTH)
    hidden = torch.randn(TOKENS, batch, 4 * WIDTH, generator=g)
    dh = WIDTH // HEADS
    packed = torch.randn(TOKENS, batch, 3 * WIDTH, generator=g)

    def attention():   # multi_head_attention_forward (1.13) from the packed projection to the merged heads, no mask
        q, k, v = packed.chunk(3, dim=-1)
        q, k, v = (t.contiguous().view(TOKENS, batch * HEADS, dh).transpose(0, 1) for t in (q, k, v))
        a = torch.bmm(q / math.sqrt(dh), k.transpose(-2, -1))
        out = torch.bmm(F.softmax(a, dim=-1), v)
        return out.transpose(0, 1).contiguous().view(TOKENS * batch, WIDTH)

    ops = {
        "layer_norm": lambda: ln(x),
        "qkv 768->2304": lambda: F.linear(x, w_qkv, b_qkv),
        "attention": attention,
        "out_proj 768->768": lambda: F.linear(x, w_out, b_out),
        "c_fc 768->3072": lambda: F.linear(x, w_fc, b_fc),
        "quick_gelu": lambda: hidden * torch.sigmoid(1.702 * hidden),
        "c_proj 3072->768": lambda: F.linear(hidden, w_proj, b_proj),
        "residual add": lambda: x + x,
    }
    with torch.no_grad():
        ms = {name: 1000 * best_seconds(op) for name, op in ops.items()}
    print(json.dumps({"side": "pytorch", "version": torch.__version__, "threads": torch.get_num_threads(), "batch": batch, "ms": {"fp32": ms}}))


if __name__ == "__main__":
    main()
