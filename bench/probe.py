"""Cost of the attention probe: training and evaluation for 300 pairs on a 12 x 12 model.

Synthetic attention (two candidates per pair, Winograd-style twin groups, one planted three-head mix)
goes through ``reportgen.analysis.probe.run_probe`` with the defaults: 5 outer folds, an inner 3-fold
search over 5 regularisation strengths, the shuffled-antecedent control and bootstrap intervals.
Prints one line per repeat: wall and CPU seconds, Newton fits' result. Target: under 10 s on 2 CPUs.

Run: ``python bench/probe.py [--pairs 300] [--layers 12] [--heads 12] [--candidates 2] [--repeat 3]``.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from reportgen.analysis import probe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=300)
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--heads", type=int, default=12)
    parser.add_argument("--candidates", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    shape = (args.pairs, args.candidates, 2, args.layers, args.heads)
    features = rng.dirichlet(np.ones(20), size=shape)[..., 0]  # attention-like shares in [0, 1]
    mix = features[:, :, 0, 2, 3] + features[:, :, 0, 5, 1] + features[:, :, 1, 7, 7]
    antecedent = np.argmax(mix + rng.normal(0.0, 0.02, mix.shape), axis=1)
    groups = np.arange(args.pairs) // 2
    chance = np.full(args.pairs, 1.0 / args.candidates)
    print(f"pairs {args.pairs}, {args.layers} x {args.heads} heads, {args.candidates} candidates")
    for _ in range(args.repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = probe.run_probe(features, antecedent, groups, baselines={"random": chance})
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"run_probe  wall {wall:6.2f} s  cpu {cpu:6.2f} s  (target < 10 s)  probe "
              f"{result.probe.accuracy:.3f}  single head {result.single.score.accuracy:.3f}  "
              f"control {result.control.accuracy:.3f}")


if __name__ == "__main__":
    main()
