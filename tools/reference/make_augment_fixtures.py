#!/usr/bin/python3
"""Reference fixtures for Peft.Data.Augmentation (RandomResizedCrop + RandomHorizontalFlip) and CMYK JPEGs.

Usage:
    /usr/bin/python3 tools/reference/make_augment_fixtures.py [OUT_DIR]

OUT_DIR defaults to tests/Peft.Tests/Fixtures/augment. Needs Debian's python3-pil (9.4),
python3-torchvision (0.14) and python3-torch (1.13). Inputs are the committed image fixtures in
tests/Peft.Tests/Fixtures/images. Not run in CI: the outputs are committed; re-running with the same
library versions rewrites the same bytes.

The C# code draws its own random numbers, so torchvision's cannot be compared directly. Instead this script
runs torchvision's own RandomResizedCrop / RandomHorizontalFlip under torch.manual_seed and records every
random number torch produced for them, in call order, by wrapping Tensor.uniform_, torch.randint and
torch.rand (no re-implementation of the algorithm here). The C# test replays those numbers through its
injectable random source, checks that it asks for the same ranges in the same order, and must arrive at
the same crop box and the same output bytes.

Writes manifest.json with:
  * "get_params": per (image, scale, ratio, seed): the recorded draws and torchvision's (top, left, h, w);
    the configurations include ones that force each branch of the central-crop fallback;
  * "pipeline": Compose([RandomResizedCrop(size, scale, ratio, BICUBIC), RandomHorizontalFlip(0.5)]) on the
    PIL RGB image: draws, the box, whether it flipped, SHA-256 of the uint8 output and of the float32
    tensor after ToTensor + Normalize(CLIP mean/std); also SHA-256 of F.resized_crop alone and of its hflip;
  * "cmyk": CMYK JPEGs written by PIL (its writer adds an Adobe APP14 marker and stores inverted CMYK) and
    the same file with the APP14 marker removed (PIL 9.4 reads both as inverted); PIL mode, SHA-256 of
    convert("RGB"), of openai/CLIP's 224 crop (PIL resizes the CMYK samples, then converts) and of the same
    crop computed from the RGB image; the first crop is also kept as a PNG to measure the difference.
"""
import hashlib
import json
import os
import sys

import numpy as np
import torch
import torchvision
from PIL import Image
from torchvision import transforms as T
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as F

MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)
DEFAULT_RATIO = (3.0 / 4.0, 4.0 / 3.0)

# (name, scale, ratio): Dassl default, Tip-Adapter, and configurations that force the fallback branches.
PARAM_CONFIGS = [
    ("dassl", (0.08, 1.0), DEFAULT_RATIO),
    ("tip_adapter", (0.5, 1.0), DEFAULT_RATIO),
    ("fallback_whole", (2.0, 3.0), DEFAULT_RATIO),   # area always too large; image ratio within range
    ("fallback_tall", (0.3, 0.5), (10.0, 20.0)),     # image narrower than min ratio: w = W, h = round(W / 10)
    ("fallback_wide", (0.3, 0.5), (0.02, 0.05)),     # image wider than max ratio: h = H, w = round(H * 0.05)
    ("mixed", (0.9, 1.0), (1.2, 2.5)),                 # some attempts rejected, some accepted
]
PARAM_IMAGES = ["photo_chelsea.jpg", "photo_coffee.jpg", "odd_151x226.png", "tiny_10x7.png"]
PARAM_SEEDS = range(8)
FALLBACK_SEEDS = range(3)  # the fallback box does not depend on the draws; a few seeds suffice

PIPELINE_IMAGES = ["photo_chelsea.jpg", "photo_coffee.jpg", "odd_151x226.png"]
PIPELINE_CONFIGS = [("dassl", (0.08, 1.0), 224), ("tip_adapter", (0.5, 1.0), 224), ("dassl", (0.08, 1.0), 96)]
PIPELINE_SEEDS = range(4)


def sha(data):
    return hashlib.sha256(bytes(data)).hexdigest()


class DrawRecorder:
    """Wraps the torch RNG entry points torchvision's transforms call, recording each result."""

    def __init__(self):
        self.draws = []

    def __enter__(self):
        self._uniform, self._randint, self._rand = torch.Tensor.uniform_, torch.randint, torch.rand
        draws, uniform, randint, rand = self.draws, self._uniform, self._randint, self._rand

        def uniform_(t, low=0.0, high=1.0, *a, **k):
            r = uniform(t, low, high, *a, **k)
            assert r.numel() == 1
            draws.append({"kind": "uniform", "low": float(low), "high": float(high), "value": r.item()})
            return r

        def randint_(low, high, size, *a, **k):
            r = randint(low, high, size, *a, **k)
            assert r.numel() == 1
            draws.append({"kind": "integer", "low": int(low), "high": int(high), "value": int(r.item())})
            return r

        def rand_(*size, **k):
            r = rand(*size, **k)
            assert r.numel() == 1
            draws.append({"kind": "uniform", "low": 0.0, "high": 1.0, "value": r.item()})
            return r

        torch.Tensor.uniform_, torch.randint, torch.rand = uniform_, randint_, rand_
        return self

    def __exit__(self, *exc):
        torch.Tensor.uniform_, torch.randint, torch.rand = self._uniform, self._randint, self._rand


def tensor_sha(t):
    return sha(t.numpy().astype("<f4").tobytes())


def get_params_records(images_dir):
    out = []
    for file in PARAM_IMAGES:
        img = Image.open(os.path.join(images_dir, file)).convert("RGB")
        for name, scale, ratio in PARAM_CONFIGS:
            for seed in FALLBACK_SEEDS if name.startswith("fallback") else PARAM_SEEDS:
                torch.manual_seed(seed)
                with DrawRecorder() as rec:
                    top, left, h, w = T.RandomResizedCrop.get_params(img, list(scale), list(ratio))
                out.append({"file": file, "config": name, "scale": list(scale), "ratio": list(ratio), "seed": seed,
                            "draws": rec.draws, "box": {"top": top, "left": left, "height": h, "width": w}})
    return out


def pipeline_records(images_dir):
    out = []
    for file in PIPELINE_IMAGES:
        # Dassl and Tip-Adapter read images with Image.open(p).convert("RGB") before any transform.
        img = Image.open(os.path.join(images_dir, file)).convert("RGB")
        for name, scale, size in PIPELINE_CONFIGS:
            rrc = T.RandomResizedCrop(size, scale=scale, ratio=DEFAULT_RATIO, interpolation=InterpolationMode.BICUBIC)
            flip = T.RandomHorizontalFlip(0.5)
            for seed in PIPELINE_SEEDS:
                # The box, from get_params under the same seed (the transform calls exactly this first).
                torch.manual_seed(seed)
                box = T.RandomResizedCrop.get_params(img, list(scale), list(DEFAULT_RATIO))
                torch.manual_seed(seed)
                with DrawRecorder() as rec:
                    view = T.Compose([rrc, flip])(img)
                flipped = rec.draws[-1]["value"] < 0.5
                cropped = F.resized_crop(img, *box, [size, size], InterpolationMode.BICUBIC)
                assert np.array_equal(np.array(F.hflip(cropped) if flipped else cropped), np.array(view))
                tensor = T.Normalize(MEAN, STD)(T.ToTensor()(view))
                out.append({
                    "file": file, "config": name, "scale": list(scale), "ratio": list(DEFAULT_RATIO), "size": size,
                    "seed": seed, "draws": rec.draws,
                    "box": {"top": box[0], "left": box[1], "height": box[2], "width": box[3]},
                    "flipped": flipped,
                    "resized_crop_sha256": sha(np.array(cropped).tobytes()),
                    "resized_crop_hflip_sha256": sha(np.array(F.hflip(cropped)).tobytes()),
                    "view_sha256": sha(np.array(view).tobytes()),
                    "tensor_sha256": tensor_sha(tensor),
                })
    return out


def clip_crop224(im):
    """openai/CLIP's _transform up to the uint8 crop: resize in the file's mode, crop, then convert."""
    return T.Compose([T.Resize(224, interpolation=InterpolationMode.BICUBIC), T.CenterCrop(224),
                      lambda x: x.convert("RGB")])(im)


def cmyk_records(images_dir, out_dir):
    src = np.array(Image.open(os.path.join(images_dir, "photo_chelsea.png")).convert("RGB").crop((20, 10, 200, 150)))
    src = src.astype(np.int32)
    h, w, _ = src.shape
    # A real K channel (PIL's RGB -> CMYK conversion leaves K at 0, which would hide the K arithmetic):
    # C, M, Y from the photo, K a left-to-right ramp 0..255.
    k = (np.mgrid[0:h, 0:w][1] * 255 // (w - 1)).astype(np.uint8)
    cmyk = np.dstack([((255 - src) * 3 // 4).astype(np.uint8), k])
    adobe = os.path.join(out_dir, "cmyk_adobe.jpg")
    Image.fromarray(cmyk, "CMYK").save(adobe, quality=90)
    with open(adobe, "rb") as f:
        data = f.read()
    assert data[2:4] == b"\xff\xee" and data[6:11] == b"Adobe", "expected PIL's APP14 Adobe marker right after SOI"
    app14 = 2 + int.from_bytes(data[4:6], "big")
    with open(os.path.join(out_dir, "cmyk_no_adobe.jpg"), "wb") as f:
        f.write(data[:2] + data[2 + app14:])

    out = []
    for file in ("cmyk_adobe.jpg", "cmyk_no_adobe.jpg"):
        im = Image.open(os.path.join(out_dir, file))
        rgb = im.convert("RGB")
        crop = clip_crop224(Image.open(os.path.join(out_dir, file)))
        rec = {"file": file, "pil_mode": im.mode, "adobe": "adobe" in im.info,
               "width": im.size[0], "height": im.size[1],
               "decoded_sha256": sha(np.array(rgb).tobytes()),
               "clip224_crop_sha256": sha(np.array(crop).tobytes()),
               "rgb_first_clip224_crop_sha256": sha(np.array(clip_crop224(rgb)).tobytes())}
        if file == "cmyk_adobe.jpg":
            # Kept to measure how far resizing the RGB (all a decoder without CMYK samples can do) is from PIL.
            rec["clip224_crop_png"] = file + ".clip224.crop.png"
            crop.save(os.path.join(out_dir, rec["clip224_crop_png"]), optimize=True)
        out.append(rec)
    return out


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "tests", "Peft.Tests", "Fixtures", "augment")
    images_dir = os.path.join(root, "tests", "Peft.Tests", "Fixtures", "images")
    os.makedirs(out_dir, exist_ok=True)
    manifest = {
        "generator": "tools/reference/make_augment_fixtures.py",
        "versions": {"PIL": Image.__version__, "torch": torch.__version__, "torchvision": torchvision.__version__},
        "mean": MEAN, "std": STD,
        "get_params": get_params_records(images_dir),
        "pipeline": pipeline_records(images_dir),
        "cmyk": cmyk_records(images_dir, out_dir),
    }
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, separators=(",", ":"))  # compact: the draws make it large otherwise
    total = sum(os.path.getsize(os.path.join(out_dir, f)) for f in os.listdir(out_dir))
    fallbacks = sum(1 for r in manifest["get_params"] if not any(d["kind"] == "integer" for d in r["draws"]))
    print(f"{len(manifest['get_params'])} get_params records ({fallbacks} fallbacks), "
          f"{len(manifest['pipeline'])} pipeline records, {total / 1e3:.0f} KB in {out_dir}")


if __name__ == "__main__":
    main()
