"""Labels that do not hide each other: positions moved apart along one axis, in their
order, as little as may be (the direct labels of the priority-ranks figure, the labels
of the claimed states in panel D of the paper's figures)."""

from __future__ import annotations

import numpy as np


def spread(wanted, gap: float, low: float = -np.inf, high: float = np.inf) -> np.ndarray:
    """Positions for labels that want to sit at ``wanted`` (one axis, any order): at
    least ``gap`` apart, in the order of ``wanted`` (ties by index), within
    ``[low, high]`` where there is room.

    Labels that would overlap form a group, set ``gap`` apart and centred on the mean
    of their wanted positions (the least-squares placement of an evenly spaced group in
    that order); a group that then overlaps the one before it merges with it, until
    none overlap. Then the positions are pushed down from ``high`` and up from ``low``,
    keeping the gap (where the range is too short for them all, ``low`` wins).
    """
    wanted = np.asarray(wanted, dtype=float)
    order = np.argsort(wanted, kind="stable")
    values = wanted[order]

    def start(group: list[int]) -> float:  # the first position of an evenly spaced, centred group
        return float(values[group].mean() - gap * (len(group) - 1) / 2)

    groups: list[list[int]] = []
    for k in range(values.size):
        groups.append([k])
        while len(groups) > 1 and start(groups[-1]) < start(groups[-2]) + gap * len(groups[-2]):
            last = groups.pop()
            groups[-1].extend(last)
    placed = np.concatenate([start(group) + gap * np.arange(len(group)) for group in groups]) if groups else values
    if placed.size and placed[-1] > high:
        placed[-1] = high
        for k in range(placed.size - 2, -1, -1):
            placed[k] = min(placed[k], placed[k + 1] - gap)
    if placed.size and placed[0] < low:
        placed[0] = low
        for k in range(1, placed.size):
            placed[k] = max(placed[k], placed[k - 1] + gap)
    out = np.empty(wanted.size)
    out[order] = placed
    return out
