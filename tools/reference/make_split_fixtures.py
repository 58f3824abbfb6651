#!/usr/bin/env python3
"""Write golden fixtures for Peft.Data.Splits (PythonRandom, FewShotSampler, SplitManifest) with CPython.

Usage (from the repository root; stdlib only)::

    /usr/bin/python3 tools/reference/make_split_fixtures.py \\
        [--out tests/Peft.Tests/Fixtures/splits] \\
        [--dassl-src /tmp/dassl-src]

``--dassl-src`` (optional) is a Dassl.pytorch checkout, e.g. made with
``git --git-dir=/work/.mirror/KaiyangZhou+Dassl.pytorch/repo archive HEAD | tar -x -C /tmp/dassl-src``.
Dassl's package ``__init__`` pulls in torch, and ``base_dataset.py`` imports ``gdown``, so the script
loads ``dassl/data/datasets/base_dataset.py`` on its own, with two stand-in modules (``gdown``: empty;
``dassl.utils``: ``check_isfile`` always true, so ``Datum`` accepts the fake paths). Every few-shot
draw is then computed twice -- by Dassl's own ``DatasetBase.generate_fewshot_dataset`` and by the
re-statement below (``fewshot_like_dassl``) -- and the script stops if they differ. Without
``--dassl-src`` only the re-statement runs (``fixture["dassl_cross_check"]`` records which).

The re-statement follows Dassl's ``generate_fewshot_dataset(data_source, num_shots=K, repeat=False)``
(dassl/data/datasets/base_dataset.py): group items by label in a dict filled in list order
(``split_dataset_by_label``, so groups come in order of first appearance of each label), then per group
``random.sample(items, K)`` when the group has at least K items, else the whole group in list order;
concatenate. ``num_shots < 1`` returns the list unchanged. CoOp's datasets (datasets/oxford_pets.py and
the other nine non-ImageNet sets) call it for train with K and then for val with ``min(K, 4)``, after
``train.py`` ran ``set_random_seed(seed)`` (``random.seed(seed)`` among others).

Outputs (JSON):

* ``random.json``   per seed: 24 ``random()`` values (as ``float.hex`` and as the exact 53-bit integer
  ``random() * 2**53``), 24 ``getrandbits(32)``; ``getrandbits(k)`` for k crossing 32/64-bit word
  boundaries (decimal strings); ``sample(range(n), k)`` for (n, k) pairs on both sides of ``sample``'s
  switch between its pool and set algorithms (with the side each case takes); ``shuffle``,
  ``randrange``, ``randint``, ``choice``.
* ``fewshot.json``  a fake labelled dataset (labels interleaved and not sorted, classes smaller than K,
  one class absent from val) and, for K in {1, 2, 4, 8, 16} x seed in {1, 2, 3}, the train and val
  draws as indices into the full lists; plus an explicit-val-shots case and a ``val_shots = 0`` case.
* ``manifest.json`` one manifest's canonical form (see ``canonical_bytes``) and its SHA-256, and the
  exact bytes Dassl's ``write_json`` (``json.dump(obj, f, indent=4, separators=(",", ": "))``) writes
  for the same split in CoOp's ``split_zhou_*.json`` layout.
"""

import argparse
import contextlib
import io
import hashlib
import importlib.util
import json
import math
import os
import random
import sys
import types

SEEDS = [1, 2, 3, 0, 42, 7, -7, 2**32 - 1, 2**32, 2**40 + 7, 2**64 + 1, 2**100 + 12345,
         12345678901234567890123456789]

# (n, k) pairs for sample(range(n), k); see sample_algorithm for which side each falls on.
SAMPLE_CASES = [
    (0, 0), (1, 0), (1, 1), (2, 2), (5, 5), (21, 1), (21, 5), (22, 5), (22, 1), (100, 1), (100, 5),
    (85, 6), (86, 6), (85, 16), (86, 16), (84, 21), (85, 21), (86, 21), (277, 22), (278, 22),
    (1000, 3), (1000, 16), (1000, 100), (1000, 1000), (1025, 86), (1045, 86), (1046, 86),
    (5000, 4), (100000, 16), (2**31 - 1, 8), (2**40, 5), (48, 48), (300, 150),
]
GETRANDBITS_K = [1, 2, 7, 31, 32, 33, 48, 63, 64, 65, 96, 100, 127, 128, 129, 200]


def sample_algorithm(n, k):
    """Which branch CPython's Random.sample takes (the condition as in Lib/random.py)."""
    setsize = 21
    if k > 5:
        setsize += 4 ** math.ceil(math.log(k * 3, 4))
    return "pool" if n <= setsize else "set"


def random_fixture():
    seeds = []
    for seed in SEEDS:
        rng = random.Random(seed)
        floats = [rng.random() for _ in range(24)]
        rng = random.Random(seed)
        words = [rng.getrandbits(32) for _ in range(24)]
        rng = random.Random(seed)
        bits = [{"k": k, "value": str(rng.getrandbits(k))} for k in GETRANDBITS_K]
        seeds.append({
            "seed": str(seed),
            "random_hex": [f.hex() for f in floats],
            "random_int53": [str(int(f * 2**53)) for f in floats],
            "getrandbits32": words,
            "getrandbits_sequence": bits,
        })

    samples = []
    for i, (n, k) in enumerate(SAMPLE_CASES):
        seed = 1000 + i
        rng = random.Random(seed)
        first = rng.sample(range(n), k)
        second = rng.sample(range(n), k)  # the stream after the first draw
        samples.append({"seed": seed, "n": n, "k": k, "algorithm": sample_algorithm(n, k),
                        "first": first, "second": second})

    shuffles = []
    for seed, n in [(1, 0), (1, 1), (1, 2), (2, 10), (3, 37), (4, 1000)]:
        rng = random.Random(seed)
        xs = list(range(n))
        rng.shuffle(xs)
        shuffles.append({"seed": seed, "n": n, "result": xs})

    ranges = []
    for seed, a, b in [(1, 0, 10), (2, -5, 5), (3, 0, 1), (4, 10, 2**40), (5, -2**62, 2**62)]:
        rng = random.Random(seed)
        ranges.append({"seed": seed, "start": str(a), "stop": str(b),
                       "randrange": [str(rng.randrange(a, b)) for _ in range(12)],
                       "randint_after": [str(rng.randint(a, b)) for _ in range(12)]})
    rng = random.Random(9)
    choices = [rng.choice("abcdefghij") for _ in range(20)]

    return {
        "python": sys.version,
        "seeds": seeds,
        "samples": samples,
        "shuffles": shuffles,
        "ranges": ranges,
        "choice": {"seed": 9, "population": "abcdefghij", "result": "".join(choices)},
    }


# ----------------------------------------------------------------------------------------------
# Few-shot draws.

class Item:
    """Stand-in for Dassl's Datum: impath, label, classname."""

    def __init__(self, impath, label, classname):
        self.impath = impath
        self.label = label
        self.classname = classname


def fewshot_like_dassl(data_source, num_shots):
    """Re-statement of Dassl's generate_fewshot_dataset for one data source, repeat=False."""
    if num_shots < 1:
        return data_source
    groups = {}  # dicts keep insertion order, like Dassl's defaultdict
    for item in data_source:
        groups.setdefault(item.label, []).append(item)
    out = []
    for _label, items in groups.items():
        if len(items) >= num_shots:
            out.extend(random.sample(items, num_shots))
        else:
            out.extend(items)
    return out


def load_dassl(dassl_src):
    path = os.path.join(dassl_src, "dassl", "data", "datasets", "base_dataset.py")
    if not os.path.isfile(path):
        sys.exit(f"{path}: not found (expected a Dassl.pytorch checkout)")
    sys.modules.setdefault("gdown", types.ModuleType("gdown"))
    for name in ("dassl", "dassl.utils"):
        sys.modules.setdefault(name, types.ModuleType(name))
    sys.modules["dassl.utils"].check_isfile = lambda _path: True
    spec = importlib.util.spec_from_file_location("dassl_base_dataset", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_dataset():
    """Train/val/test lists with interleaved, unsorted labels and uneven class sizes.

    Train class sizes (label: count): some far above 16 (so sample takes its set branch for small K),
    some between 4 and 16, some below 4, one with a single item. Val lacks label 6 entirely and has
    classes below 4. Class names include characters JSON must escape and non-ASCII text.
    """
    class_names = ["abyssinian", "bengal cat", "caf\u00e9 \"au lait\"", "d\u00e9j\u00e0 vu",
                   "emu/ostrich", "fig\\tree", "gecko\t\x01\x7f", "hare\u2014jack", "ibis \U0001F426"]
    train_sizes = {3: 40, 0: 17, 7: 100, 5: 16, 1: 9, 8: 3, 2: 23, 6: 1, 4: 12}
    val_sizes = {5: 7, 2: 2, 0: 5, 8: 1, 7: 30, 3: 4, 1: 6, 4: 3}
    test_sizes = {0: 3, 1: 2, 2: 2, 3: 1, 4: 2, 5: 1, 6: 2, 7: 3, 8: 1}

    def build(split, sizes, stride_seed):
        # Deterministic interleaving that does not depend on random: repeatedly walk the labels in
        # the dict's order with a stride, emitting one item of each label that has items left.
        remaining = dict(sizes)
        counters = {label: 0 for label in sizes}
        labels = list(sizes)
        out = []
        step = 0
        while any(remaining.values()):
            label = labels[(step * stride_seed) % len(labels)]
            step += 1
            if remaining[label] == 0:
                continue
            n = counters[label]
            counters[label] += 1
            remaining[label] -= 1
            name = class_names[label]
            folder = name.replace(" ", "_").replace("/", "-").replace("\\", "-").replace("\"", "")
            out.append(Item(f"{split}/{folder}/{split}_{label}_{n:03d}.jpg", label, name))
        return out

    train = build("train", train_sizes, 4)
    val = build("val", val_sizes, 3)
    test = build("test", test_sizes, 5)
    return class_names, train, val, test


def triples(items):
    return [[it.impath, it.label, it.classname] for it in items]


def fewshot_fixture(dassl):
    class_names, train, val, test = fake_dataset()
    index = {id(it): i for i, it in enumerate(train)}
    index.update({id(it): i for i, it in enumerate(val)})

    def draw(shots, seed, val_shots):
        random.seed(seed)
        tr = fewshot_like_dassl(train, shots)
        va = fewshot_like_dassl(val, val_shots)
        if dassl is not None:
            random.seed(seed)
            base = object.__new__(dassl.DatasetBase)
            d_train = [dassl.Datum(impath=it.impath, label=it.label, classname=it.classname)
                       for it in train]
            d_val = [dassl.Datum(impath=it.impath, label=it.label, classname=it.classname)
                     for it in val]
            with contextlib.redirect_stdout(io.StringIO()):  # it prints "Creating a K-shot dataset"
                d_tr = base.generate_fewshot_dataset(d_train, num_shots=shots)
                d_va = base.generate_fewshot_dataset(d_val, num_shots=val_shots)
            if [x.impath for x in d_tr] != [x.impath for x in tr] or \
                    [x.impath for x in d_va] != [x.impath for x in va]:
                sys.exit(f"re-statement differs from Dassl for K={shots}, seed={seed}")
        return {"shots": shots, "seed": seed, "val_shots": val_shots,
                "train": [index[id(it)] for it in tr], "val": [index[id(it)] for it in va]}

    draws = []
    for shots in [1, 2, 4, 8, 16]:
        for seed in [1, 2, 3]:
            draws.append(draw(shots, seed, min(shots, 4)))
    draws.append(draw(16, 1, 8))    # explicit val shots
    draws.append(draw(4, 7, 0))     # val_shots < 1: val returned unchanged, no draws
    draws.append(draw(40, 5, 4))    # K above every class size but one
    draws.append(draw(2, 123456789, 2))

    return {
        "class_names": class_names,
        "train": triples(train),
        "val": triples(val),
        "test": triples(test),
        "draws": draws,
        "dassl_cross_check": dassl is not None,
    }, (class_names, train, val, test)


# ----------------------------------------------------------------------------------------------
# Manifest canonical form and CoOp export.

def canonical_bytes(manifest):
    """The manifest's canonical form: the fields below, in this order, as compact JSON
    (separators "," and ":", no whitespace), strings escaped as json.dumps(ensure_ascii=False) does
    (only '"', '\\' and U+0000-U+001F are escaped: \\" \\\\ \\b \\f \\n \\r \\t, others as \\u00xx),
    encoded as UTF-8. Informational fields (root, created_utc) and sha256 itself are not part of it."""
    ordered = {
        "format": "peft.split-manifest",
        "format_version": 1,
        "dataset": manifest["dataset"],
        "sampling": manifest["sampling"],
        "shots": manifest["shots"],
        "seed": manifest["seed"],
        "val_shots": manifest["val_shots"],
        "class_names": manifest["class_names"],
        "short_classes": [
            {"split": s["split"], "label": s["label"], "class": s["class"],
             "available": s["available"], "requested": s["requested"]}
            for s in manifest["short_classes"]],
        "train": manifest["train"],
        "val": manifest["val"],
        "test": manifest["test"],
    }
    return json.dumps(ordered, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def short_classes(split, items, shots, class_names):
    """Classes with fewer than `shots` items in a sampled list: present classes in order of first appearance (as
    generate_fewshot_dataset meets them), then classes with no item at all, in label order."""
    if shots < 1:
        return []
    groups = {}
    for it in items:
        groups.setdefault(it.label, []).append(it)
    out = [{"split": split, "label": label, "class": its[0].classname, "available": len(its),
            "requested": shots} for label, its in groups.items() if len(its) < shots]
    out += [{"split": split, "label": label, "class": class_names[label], "available": 0, "requested": shots}
            for label in range(len(class_names)) if label not in groups]
    return out


def manifest_fixture(data):
    class_names, train, val, test = data
    shots, seed = 8, 2
    random.seed(seed)
    tr = fewshot_like_dassl(train, shots)
    va = fewshot_like_dassl(val, min(shots, 4))
    manifest = {
        "dataset": "fake_pets",
        "sampling": "dassl",
        "shots": shots,
        "seed": seed,
        "val_shots": min(shots, 4),
        "class_names": class_names,
        "short_classes": (short_classes("train", train, shots, class_names)
                          + short_classes("val", val, min(shots, 4), class_names)),
        "train": triples(tr),
        "val": triples(va),
        "test": triples(test),
    }
    canonical = canonical_bytes(manifest)
    # Dassl's write_json as called by CoOp's save_split (tuples serialise as JSON arrays).
    coop = json.dumps({"train": [tuple(t) for t in manifest["train"]],
                       "val": [tuple(t) for t in manifest["val"]],
                       "test": [tuple(t) for t in manifest["test"]]},
                      indent=4, separators=(",", ": "))
    return {
        "manifest": manifest,
        "canonical_utf8": canonical.decode("utf-8"),
        "sha256": hashlib.sha256(canonical).hexdigest(),
        "coop_export": coop,
    }


def write(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=True, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="tests/Peft.Tests/Fixtures/splits")
    parser.add_argument("--dassl-src", default=None)
    args = parser.parse_args()
    dassl = load_dassl(args.dassl_src) if args.dassl_src else None
    os.makedirs(args.out, exist_ok=True)
    write(os.path.join(args.out, "random.json"), random_fixture())
    fewshot, data = fewshot_fixture(dassl)
    write(os.path.join(args.out, "fewshot.json"), fewshot)
    write(os.path.join(args.out, "manifest.json"), manifest_fixture(data))


if __name__ == "__main__":
    main()
