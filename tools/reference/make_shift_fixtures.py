#!/usr/bin/env python3
"""Write the ImageNet-A / ImageNet-R class index lists of the official evaluation code as a test fixture.

Usage (from the repository root; stdlib only)::

    git --git-dir=/work/.mirror/hendrycks+natural-adv-examples/repo archive HEAD eval.py | tar -x -C /tmp/official/nae
    git --git-dir=/work/.mirror/hendrycks+imagenet-r/repo archive HEAD eval.py | tar -x -C /tmp/official/imr
    /usr/bin/python3 tools/reference/make_shift_fixtures.py --imagenet-a /tmp/official/nae/eval.py \\
        --imagenet-r /tmp/official/imr/eval.py [--out tests/Peft.Tests/Fixtures/shift/imagenet_ar.json]

The lists are read from the official files as Python literals (``ast``; nothing is executed):

* hendrycks/natural-adv-examples ``eval.py``: ``thousand_k_to_200`` (ImageNet index -> ImageNet-A label or -1); the
  official evaluation scores ``net(x)[:, indices_in_1k]`` with ``indices_in_1k = [k for k in thousand_k_to_200 if ... != -1]``.
* hendrycks/imagenet-r ``eval.py``: ``all_wnids`` (ImageNet's 1000 wnids in index order) and ``imagenet_r_wnids`` (the
  200 classes); the evaluation scores ``net(x)[:, imagenet_r_mask]`` with ``imagenet_r_mask = [wnid in imagenet_r_wnids
  for wnid in all_wnids]``.

The fixture holds ``all_wnids``, ``imagenet_a_indices`` (indices_in_1k, in ImageNet-A label order) and
``imagenet_r_indices`` (the mask's true positions, in ImageNet-R label order = sorted wnid folders).
"""

import argparse
import ast
import json


def literal(path, name):
    tree = ast.parse(open(path).read(), path)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise SystemExit(f"{path}: no literal assignment to {name}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--imagenet-a", required=True)
    p.add_argument("--imagenet-r", required=True)
    p.add_argument("--out", default="tests/Peft.Tests/Fixtures/shift/imagenet_ar.json")
    a = p.parse_args()
    thousand_k_to_200 = literal(a.imagenet_a, "thousand_k_to_200")
    indices_in_1k = [k for k in thousand_k_to_200 if thousand_k_to_200[k] != -1]
    assert [thousand_k_to_200[k] for k in indices_in_1k] == list(range(200))
    all_wnids = literal(a.imagenet_r, "all_wnids")
    r_wnids = literal(a.imagenet_r, "imagenet_r_wnids")
    mask = [w in r_wnids for w in all_wnids]
    r_indices = [i for i in range(1000) if mask[i]]
    assert len(all_wnids) == 1000 and len(indices_in_1k) == 200 and len(r_indices) == 200
    with open(a.out, "w") as f:
        json.dump({
            "source": "hendrycks/natural-adv-examples eval.py thousand_k_to_200; hendrycks/imagenet-r eval.py all_wnids, imagenet_r_wnids",
            "all_wnids": all_wnids, "imagenet_a_indices": indices_in_1k, "imagenet_r_indices": r_indices,
        }, f)
        f.write("\n")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
