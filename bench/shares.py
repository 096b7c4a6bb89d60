#!/usr/bin/env python3
"""Inclusive shares of chosen frames in collapsed stacks (bench/profile.py's .folded files).

    python3 bench/shares.py bench/results/profiles/S2.folded query_opt serde_json writev ...

Each pattern is matched as a substring of a frame; a stack counts once per pattern however
many of its frames match. Without patterns, prints the 40 frames with the largest share.
"""
import collections
import sys


def main():
    path, patterns = sys.argv[1], sys.argv[2:]
    total = 0
    counts = collections.Counter()
    for line in open(path, errors="replace"):
        stack, _, n = line.rstrip("\n").rpartition(" ")
        if not n.isdigit():
            continue
        n = int(n)
        total += n
        frames = stack.split(";")
        if patterns:
            for p in patterns:
                if any(p in f for f in frames):
                    counts[p] += n
        else:
            for f in set(frames):
                counts[f] += n
    for name, n in (counts.items() if patterns else counts.most_common(40)):
        print(f"{100 * n / max(total, 1):5.1f}%  {name[:160]}")
    print(f"({total} samples)")


if __name__ == "__main__":
    main()
