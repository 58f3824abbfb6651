#!/usr/bin/env python3
"""Run the *official* CoOp trainer on the cells of ``tests/Peft.Tests/Fixtures/official`` with the project's tiny CLIP
text tower, and record its training trace and test predictions, as the fixture ``coop.json`` for
``tests/Peft.Tests/Methods/CoOpOfficialTests.cs``.

Checkouts (not part of this repository; commits recorded in the output)::

    git clone https://github.com/KaiyangZhou/CoOp           # ff61507c790454bce7c5052c3ac39e60772f1f89
    git clone https://github.com/KaiyangZhou/Dassl.pytorch  # c61a1b570ac6333bd50fb5ae06aea59002fb20bb
    git clone https://github.com/rspeer/python-ftfy         # CLIP's tokenizer imports ftfy (pure Python)
    apt install python3-regex python3-wcwidth
    /usr/bin/python3 tools/reference/official_coop.py --coop CoOp --dassl Dassl.pytorch --ftfy python-ftfy \\
        --clip data/models/tiny-clip.safetensors --out tests/Peft.Tests/Fixtures/official \\
        tests/Peft.Tests/Fixtures/official/*.safetensors

What runs unmodified: CoOp's ``trainers/coop.py`` (``build_model``, ``PromptLearner`` for the end, middle and front
class-token positions, ``TextEncoder``, ``CustomCLIP.forward``, ``forward_backward``), its CLIP package and Dassl's
``TrainerX.run_epoch``, SGD and warm-up/cosine builders and defaults, merged with ``configs/trainers/CoOp/rn50_ep50``
/ ``rn50_ep100`` / ``rn50.yaml`` by shot count (COOP.md: 50 epochs for 1 shot, 100 for 2 and 4, 200 above) and
CTX_INIT "a photo of a" (the ``*_ctxv1`` configs: the random initialisation draws from PyTorch's global generator,
which ours does not replay). The stand-ins are those of ``official_kgcoop.py`` (tiny CLIP in fp32, 32-token
``tokenize``, 64 px, identity image encoder on the cached views, sampler orders from a generator seeded 1). Every cell
runs with the class token at the end; the 1-shot cell also with ``middle`` and ``front``.
"""
import argparse
import copy
import importlib
import io
import json
import os
import sys
import types
from contextlib import redirect_stdout
from functools import partial

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from official_side_by_side import commit_of, read_safetensors, stub_modules  # noqa: E402
from official_taskres import load_dassl, to_cn  # noqa: E402
import official_kgcoop  # noqa: E402


def config(defaults, repo, shots, position, image_size):
    import yaml
    cfg = copy.deepcopy(defaults)
    name = "rn50_ep50" if shots <= 1 else "rn50_ep100" if shots <= 4 else "rn50"   # COOP.md
    with open(os.path.join(repo, "configs", "trainers", "CoOp", name + ".yaml")) as f:
        cfg.merge(to_cn(yaml.safe_load(f)))
    cfg.TRAINER.COOP = to_cn({"N_CTX": 16, "CSC": False, "CTX_INIT": "a photo of a", "PREC": "fp32",
                              "CLASS_TOKEN_POSITION": position})
    cfg.INPUT.SIZE = (image_size, image_size)
    return cfg, name


def run_cell(coop, defaults, repo, clip_path, cell, meta, position):
    classnames = json.loads(meta["classnames"])
    model = official_kgcoop.tiny_clip(coop, clip_path)
    coop.load_clip_to_cpu = lambda cfg: official_kgcoop.tiny_clip(coop, clip_path)
    coop.clip.tokenize = partial(TOKENIZE, context_length=model.context_length)
    cfg, name = config(defaults, repo, int(meta["shots"]), position, model.visual.input_resolution)
    trainer = object.__new__(coop.CoOp)
    trainer._models, trainer._optims, trainer._scheds, trainer._writer = {}, {}, {}, None
    trainer.cfg, trainer.device = cfg, torch.device("cpu")
    trainer.dm = types.SimpleNamespace(dataset=types.SimpleNamespace(classnames=classnames))
    with redirect_stdout(io.StringIO()):
        trainer.build_model()
    record = official_kgcoop.train_and_record(trainer, cell)
    return {"config": name, "position": position, "epochs": cfg.OPTIM.MAX_EPOCH, "lr": cfg.OPTIM.LR,
            "batch_size": cfg.DATALOADER.TRAIN_X.BATCH_SIZE, **record}


TOKENIZE = None


def main():
    global TOKENIZE
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--coop", required=True, help="checkout of KaiyangZhou/CoOp")
    parser.add_argument("--dassl", required=True, help="checkout of KaiyangZhou/Dassl.pytorch")
    parser.add_argument("--ftfy", required=True, help="checkout of rspeer/python-ftfy")
    parser.add_argument("--clip", required=True, help="the tiny CLIP checkpoint")
    parser.add_argument("--out", required=True)
    parser.add_argument("cells", nargs="+")
    args = parser.parse_args()
    torch.set_num_threads(1)
    stub_modules()
    defaults, _ = load_dassl(os.path.abspath(args.dassl))
    for name in ("clip", "clip.simple_tokenizer"):
        sys.modules.pop(name, None)
    sys.path.insert(0, os.path.abspath(args.ftfy))
    sys.path.insert(0, os.path.abspath(args.coop))
    coop = importlib.import_module("trainers.coop")
    TOKENIZE = coop.clip.tokenize
    result = {"generator": "tools/reference/official_coop.py",
              "official": {"coop": commit_of(args.coop), "dassl": commit_of(args.dassl)},
              "versions": {"torch": torch.__version__, "numpy": np.__version__}, "runs": []}
    for path in sorted(args.cells):
        cell, meta = read_safetensors(path)
        name = os.path.basename(path)
        for position in ["end"] + (["middle", "front"] if int(meta["shots"]) == 1 else []):
            print(f"{name}: CoOp, class token {position} ...", flush=True)
            r = run_cell(coop, defaults, os.path.abspath(args.coop), os.path.abspath(args.clip), cell, meta, position)
            acc = float(np.mean(np.asarray(r["test_predictions"]) == cell["test_labels"]))
            print(f"  {r['config']}: final loss {r['epoch_losses'][-1]:.4f}, test {100 * acc:.2f}%", flush=True)
            result["runs"].append({"file": name, "coop": r})
    with open(os.path.join(args.out, "coop.json"), "w") as f:
        json.dump(result, f)
        f.write("\n")


if __name__ == "__main__":
    main()
