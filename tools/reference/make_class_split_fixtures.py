#!/usr/bin/env python3
"""Write the golden fixture for Peft.Data.Splits.ClassSubsample (CoCoOp's base-to-new class split) with CoOp's own code.

Usage (from the repository root; stdlib only)::

    git --git-dir=/work/.mirror/KaiyangZhou+CoOp/repo archive HEAD | tar -x -C /tmp/official/coop
    /usr/bin/python3 tools/reference/make_class_split_fixtures.py --coop-src /tmp/official/coop \\
        [--out tests/Peft.Tests/Fixtures/splits/class_subsample.json]

The official function is ``OxfordPets.subsample_classes(*args, subsample)`` in CoOp's ``datasets/oxford_pets.py``
(every CoOp/CoCoOp dataset calls it after the few-shot draw). The module imports Dassl; the script loads it with
stand-ins for the three Dassl names it uses at import time (``DATASET_REGISTRY.register``: a no-op decorator; ``Datum``:
a plain record of impath/label/classname; ``DatasetBase``: ``object``) -- ``subsample_classes`` itself only reads
``item.label`` and builds ``Datum(impath, label, classname)``.

Cases: labelled lists (train, val, test) with labels in shuffled list order, for an odd and an even number of classes,
2 classes, and a training split that lacks some labels (those classes are then in neither half, also in val and test).
For each case and each of "base" and "new" the fixture holds, per list, the positions of the kept items and their new
labels, as the official function returns them.
"""

import argparse
import importlib.util
import json
import random
import sys
import types


class Datum:
    def __init__(self, impath="", label=0, domain=0, classname=""):
        self.impath, self.label, self.domain, self.classname = impath, label, domain, classname


def load_official(coop_src):
    dassl = types.ModuleType("dassl")
    data = types.ModuleType("dassl.data")
    datasets = types.ModuleType("dassl.data.datasets")
    utils = types.ModuleType("dassl.utils")
    registry = types.SimpleNamespace(register=lambda *a, **k: (lambda cls: cls))
    datasets.DATASET_REGISTRY, datasets.Datum, datasets.DatasetBase = registry, Datum, object
    for name in ("read_json", "write_json", "mkdir_if_missing", "listdir_nohidden"):
        setattr(utils, name, lambda *a, **k: None)
    sys.modules.update({"dassl": dassl, "dassl.data": data, "dassl.data.datasets": datasets, "dassl.utils": utils})
    spec = importlib.util.spec_from_file_location("oxford_pets", f"{coop_src}/datasets/oxford_pets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.OxfordPets.subsample_classes


def make_list(rng, labels, per_class):
    items = [Datum(impath=f"c{label}/img{i}.jpg", label=label, classname=f"class{label}")
             for label in labels for i in range(per_class)]
    rng.shuffle(items)
    return items


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--coop-src", required=True)
    p.add_argument("--out", default="tests/Peft.Tests/Fixtures/splits/class_subsample.json")
    a = p.parse_args()
    subsample = load_official(a.coop_src)
    rng = random.Random(20261206)
    cases = []
    for name, classes, train_labels in [
        ("37 classes (odd)", 37, list(range(37))),
        ("10 classes (even)", 10, list(range(10))),
        ("2 classes", 2, [0, 1]),
        ("12 classes, 3 absent from train", 12, [0, 1, 2, 3, 5, 6, 8, 9, 11]),
    ]:
        train = make_list(rng, train_labels, 2)
        val = make_list(rng, list(range(classes)), 1)
        test = make_list(rng, list(range(classes)), 3)
        lists = {"train": train, "val": val, "test": test}
        case = {"name": name, "lists": {k: [d.label for d in v] for k, v in lists.items()}}
        for half in ("base", "new"):
            out = subsample(train, val, test, subsample=half)
            kept = {}
            for (key, source), result in zip(lists.items(), out):
                # subsample_classes makes new Datum objects: find each by its unique image path
                by_path = {d.impath: i for i, d in enumerate(source)}
                kept[key] = {"positions": [by_path[d.impath] for d in result], "labels": [d.label for d in result]}
            case[half] = kept
        cases.append(case)
    with open(a.out, "w") as f:
        json.dump({"source": "KaiyangZhou/CoOp datasets/oxford_pets.py OxfordPets.subsample_classes", "cases": cases}, f, indent=1)
        f.write("\n")
    print(f"wrote {a.out}: {len(cases)} cases")


if __name__ == "__main__":
    main()
