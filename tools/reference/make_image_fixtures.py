#!/usr/bin/python3
"""Reference fixtures for Peft.Clip.Imaging (decoding, PIL resize, CLIP preprocessing).

Usage:
    /usr/bin/python3 tools/reference/make_image_fixtures.py [OUT_DIR]

OUT_DIR defaults to tests/Peft.Tests/Fixtures/images (relative to the repository root).
Needs the Debian packages python3-pil (9.4), python3-torchvision (0.14), python3-torch,
python3-numpy and python3-skimage (for the public-domain / CC0 sample photographs).
Not run in CI: the outputs are committed. Re-running rewrites every file deterministically
(same library versions -> same bytes).

Writes:
  * the input images (real photographs re-encoded, plus synthetic edge cases);
  * <name>.pil-rgb.png for lossy inputs: PIL's decoded RGB, so the C# resize can be tested on
    exactly PIL's pixels, independently of the JPEG/WebP decoder;
  * <name>.clip224.crop.png: the uint8 224x224 image right before ToTensor in openai/CLIP's
    _transform (for the photographs), to measure end-to-end differences compactly;
    The full float32 tensor is not stored: it follows bit-exactly from the crop (the C# test checks
    that normalising the crop reproduces the SHA-256 of torchvision's tensor), and would cost 600 KB;
  * manifest.json: per input the PIL mode, decoded RGB shape + SHA-256, SHA-256 of PIL resizes of
    the RGB image (bicubic CLIP size, bicubic squash, bilinear, nearest), of CenterCrop(224) alone, and for
    the CLIP and CoOp-style transforms the SHA-256 of the uint8 crop and of the float32 tensor plus stats.
"""
import hashlib
import io
import json
import os
import struct
import sys
import zlib

import numpy as np
import skimage.data
import torch
from PIL import Image
from torchvision import transforms as T

MEAN = (0.48145466, 0.4578275, 0.40821073)
STD = (0.26862954, 0.26130258, 0.27577711)
SKIMAGE_DATA = os.path.dirname(skimage.data.__file__)
# Lossy inputs whose PIL-decoded RGB is kept (as PNG) to test resize apart from the JPEG decoder.
PIL_RGB_KEPT = {"photo_chelsea.jpg"}
# JPEG photographs whose uint8 CLIP crop is kept (as PNG) to measure end-to-end differences.
CROP_KEPT = {"photo_rocket.jpg", "photo_chelsea.jpg", "photo_coffee.jpg", "photo_astronaut_progressive.jpg",
             "photo_camera_gray.jpg"}


def sha(data):
    return hashlib.sha256(bytes(data)).hexdigest()


def clip_transform(n):
    """openai/CLIP clip.py _transform, verbatim in structure: resize on the source mode, then RGB."""
    return T.Compose([
        T.Resize(n, interpolation=T.InterpolationMode.BICUBIC),
        T.CenterCrop(n),
        lambda im: im.convert("RGB"),
        T.ToTensor(),
        T.Normalize(MEAN, STD),
    ])


def clip_crop(n):
    return T.Compose([
        T.Resize(n, interpolation=T.InterpolationMode.BICUBIC),
        T.CenterCrop(n),
        lambda im: im.convert("RGB"),
    ])


def coop_transform(n):
    """Squash to n x n. Dassl/CoOp read images with Image.open(p).convert('RGB') first."""
    return T.Compose([
        lambda im: im.convert("RGB"),
        T.Resize((n, n), interpolation=T.InterpolationMode.BICUBIC),
        T.ToTensor(),
        T.Normalize(MEAN, STD),
    ])


def tensor_record(t):
    a = t.numpy().astype("<f4")
    return {
        "shape": list(a.shape),
        "sha256": sha(a.tobytes()),
        "mean": float(a.astype(np.float64).mean()),
        "min": float(a.min()),
        "max": float(a.max()),
    }


def png16(path, rgb16):
    """Minimal 16-bit RGB PNG writer (PIL cannot write 16-bit colour PNGs)."""
    h, w, _ = rgb16.shape
    raw = b"".join(b"\x00" + rgb16[y].astype(">u2").tobytes() for y in range(h))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def make_inputs(out):
    """Creates the input files; returns [(file, kind)]."""
    made = []

    def save(im, name, kind, **kw):
        im.save(os.path.join(out, name), **kw)
        made.append((name, kind))

    astronaut = Image.open(os.path.join(SKIMAGE_DATA, "astronaut.png")).convert("RGB")  # 512x512, public domain
    chelsea = Image.open(os.path.join(SKIMAGE_DATA, "chelsea.png")).convert("RGB")  # 451x300, CC0
    coffee = Image.open(os.path.join(SKIMAGE_DATA, "coffee.png")).convert("RGB")  # 600x400, CC0
    rocket_path = os.path.join(SKIMAGE_DATA, "rocket.jpg")  # 640x427 camera JPEG, public domain
    camera = Image.open(os.path.join(SKIMAGE_DATA, "camera.png"))  # 512x512 grayscale, CC0

    # Real photographs.
    with open(rocket_path, "rb") as src, open(os.path.join(out, "photo_rocket.jpg"), "wb") as dst:
        dst.write(src.read())
    made.append(("photo_rocket.jpg", "photo"))
    save(chelsea, "photo_chelsea.jpg", "photo", quality=90)
    save(coffee.resize((500, 333), Image.LANCZOS), "photo_coffee.jpg", "photo", quality=85)
    save(astronaut, "photo_astronaut_q95_444.jpg", "photo", quality=95, subsampling=0)
    save(astronaut.resize((420, 420), Image.LANCZOS), "photo_astronaut_progressive.jpg", "photo",
         quality=80, progressive=True)
    save(chelsea.crop((0, 0, 400, 300)), "photo_chelsea_422.jpg", "photo", quality=85, subsampling=1)
    save(chelsea.crop((100, 40, 340, 240)), "photo_chelsea.png", "photo", optimize=True)
    save(camera.resize((300, 300), Image.LANCZOS), "photo_camera_gray.jpg", "photo", quality=90)

    # Synthetic edge cases built from the photographs.
    save(chelsea.convert("L").crop((0, 0, 240, 180)), "gray.png", "synthetic")
    save(coffee.crop((100, 50, 400, 290)).quantize(64), "palette.png", "synthetic")
    pal = coffee.crop((200, 100, 440, 280)).quantize(32)
    save(pal, "palette_trns.png", "synthetic", transparency=3)
    rgba = np.array(astronaut.crop((100, 0, 400, 260)).resize((200, 173), Image.LANCZOS).convert("RGBA"))
    yy, xx = np.mgrid[0:rgba.shape[0], 0:rgba.shape[1]]
    alpha = np.clip(xx * 255 // (rgba.shape[1] - 1), 0, 255).astype(np.uint8)  # 0 .. 255 ramp
    alpha[:, :20] = 0  # fully transparent columns keep their colour in PIL
    rgba[:, :, 3] = alpha
    save(Image.fromarray(rgba, "RGBA"), "rgba.png", "synthetic")
    la = Image.merge("LA", (chelsea.convert("L").crop((50, 10, 250, 160)), Image.fromarray(alpha[:150, :200])))
    save(la, "la.png", "synthetic")
    base = np.array(coffee.crop((0, 0, 280, 240)).resize((100, 80), Image.LANCZOS)).astype(np.uint16)
    noise = np.random.RandomState(7).randint(0, 256, base.shape).astype(np.uint16)
    png16(os.path.join(out, "rgb16.png"), base * 256 + noise)  # low byte random: exposes rounding
    made.append(("rgb16.png", "synthetic"))
    ramp = (np.mgrid[0:120, 0:300][1] * 4 + np.mgrid[0:120, 0:300][0]).astype(np.uint16)  # 0..1315
    save(Image.fromarray(ramp), "gray16.png", "synthetic")
    save(chelsea.crop((30, 30, 330, 250)).resize((160, 117), Image.LANCZOS), "rgb24.bmp", "synthetic")
    save(coffee.crop((0, 0, 250, 230)).resize((180, 160)).quantize(100), "palette8.bmp", "synthetic")
    save(coffee.crop((300, 100, 560, 330)).quantize(128), "anim_first.gif", "synthetic")
    save(astronaut.crop((0, 200, 280, 440)).resize((200, 170), Image.LANCZOS), "lossless.webp", "synthetic", lossless=True)
    save(chelsea.crop((100, 0, 400, 250)), "lossy.webp", "synthetic", quality=80)
    save(Image.fromarray(rgba[:150, :180].copy(), "RGBA"), "rgba_lossless.webp", "synthetic", lossless=True)

    # Geometry cases (crops of the photographs, saved losslessly).
    save(coffee.resize((10, 7), Image.LANCZOS), "tiny_10x7.png", "synthetic")
    save(coffee.resize((7, 10), Image.LANCZOS), "tiny_7x10.png", "synthetic")
    # (226, 151) -> (335, 224): crop offset round(55.5) = 56; (225, 151) -> 333: round(54.5) = 54 (half to even).
    save(coffee.crop((0, 0, 452, 302)).resize((226, 151), Image.LANCZOS), "odd_226x151.png", "synthetic")
    save(coffee.crop((100, 50, 550, 352)).resize((225, 151), Image.LANCZOS), "odd_225x151.png", "synthetic")
    save(coffee.crop((0, 0, 302, 400)).resize((151, 226), Image.LANCZOS), "odd_151x226.png", "synthetic")
    save(coffee.resize((300, 224), Image.LANCZOS).crop((30, 0, 270, 224)), "short_224.png", "synthetic")  # no-op resize in PIL
    save(coffee.resize((1000, 110), Image.LANCZOS), "panorama.jpg", "synthetic", quality=85)

    # EXIF orientation 6 (rotate 90): PIL's Image.open ignores it, and CLIP does too.
    exif = Image.Exif()
    exif[0x0112] = 6
    save(chelsea.crop((0, 0, 300, 200)), "exif_rotate90.jpg", "synthetic", quality=85, exif=exif.tobytes())
    return made


def resize_records(rgb):
    w, h = rgb.size
    short, long = min(w, h), max(w, h)
    recs = {}
    for n in (224, 336):
        nl = int(n * long / short)
        size = (n, nl) if w <= h else (nl, n)
        recs[f"bicubic_short{n}"] = {"width": size[0], "height": size[1],
                                     "sha256": sha(np.array(rgb.resize(size, Image.BICUBIC)).tobytes())}
    for name, size, f in (("bicubic_224x224", (224, 224), Image.BICUBIC),
                          ("bilinear_224x224", (224, 224), Image.BILINEAR),
                          ("nearest_224x224", (224, 224), Image.NEAREST),
                          ("bicubic_half", (max(1, w // 2), max(1, h // 2)), Image.BICUBIC)):
        recs[name] = {"width": size[0], "height": size[1],
                      "sha256": sha(np.array(rgb.resize(size, f)).tobytes())}
    return recs


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "tests", "Peft.Tests", "Fixtures", "images")
    os.makedirs(out, exist_ok=True)
    made = make_inputs(out)

    entries = []
    for name, kind in made:
        path = os.path.join(out, name)
        im = Image.open(path)
        rgb = im.convert("RGB")
        arr = np.array(rgb)
        e = {"file": name, "kind": kind, "pil_mode": im.mode, "width": rgb.size[0], "height": rgb.size[1],
             "decoded_sha256": sha(arr.tobytes())}
        if name in PIL_RGB_KEPT:
            e["pil_rgb"] = name + ".pil-rgb.png"
            rgb.save(os.path.join(out, e["pil_rgb"]))
        e["resize"] = resize_records(rgb)
        e["clip"] = {}
        for n in (224, 336):
            crop = np.array(clip_crop(n)(Image.open(path)))
            rec = {"crop_sha256": sha(crop.tobytes()),
                   "tensor": tensor_record(clip_transform(n)(Image.open(path)))}
            if n == 224 and name in CROP_KEPT:
                rec["crop_png"] = name + ".clip224.crop.png"
                Image.fromarray(crop).save(os.path.join(out, rec["crop_png"]), optimize=True)
            e["clip"][str(n)] = rec
        e["coop224"] = {"tensor": tensor_record(coop_transform(224)(Image.open(path)))}
        # CenterCrop alone on the RGB image: crops larger images, zero-pads smaller sides.
        e["center_crop224_sha256"] = sha(np.array(T.CenterCrop(224)(rgb)).tobytes())
        entries.append(e)

    for bad in ("truncated.jpg", "not_an_image.jpg"):
        entries.append({"file": bad, "kind": "invalid"})
    with open(os.path.join(out, "photo_chelsea.jpg"), "rb") as f:
        data = f.read()
    with open(os.path.join(out, "truncated.jpg"), "wb") as f:
        f.write(data[: len(data) // 3])
    with open(os.path.join(out, "not_an_image.jpg"), "wb") as f:
        f.write(b"This is a text file with a .jpg name.\n")

    # PIL must agree that the invalid files do not load.
    for bad in ("truncated.jpg", "not_an_image.jpg"):
        try:
            Image.open(os.path.join(out, bad)).convert("RGB")
            raise SystemExit(f"{bad} unexpectedly decoded")
        except OSError:
            pass

    manifest = {
        "generator": "tools/reference/make_image_fixtures.py",
        "versions": {"PIL": Image.__version__, "torch": torch.__version__,
                     "torchvision": __import__("torchvision").__version__, "numpy": np.__version__},
        "mean": MEAN, "std": STD,
        "images": entries,
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    total = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    print(f"{len(entries)} entries, {total / 1e6:.2f} MB in {out}")


if __name__ == "__main__":
    main()
