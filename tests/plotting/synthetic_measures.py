"""Small deterministic synthetic measures datasets for the plotting tests.

(A plain module, not the conftest, so the tests can import the builders.)

Built by hand (not by the pipeline), so the panels, the determinism checks and the
image baselines depend only on the plotting code.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

BASELINE_DIR = Path(__file__).parent / "baseline"


def _curves(n_iter: int, centres: np.ndarray, finals: np.ndarray, time: np.ndarray) -> dict:
    """Logistic PD and CD curves per state (their normalizations and derivatives are
    computed when read, himo.measures.dataset.time_series)."""
    width = 0.8
    pd = finals[None, :] / (1 + np.exp(-(time[:, None] - centres[None, :]) / width))
    pd -= pd[:1]
    cd = np.sin(np.arange(centres.size) + 1.0)[None, :] * pd
    return {"PD": pd, "CD": cd}


def _dataset(states: list[str], centres, finals, on_path_order, edges, extra: dict, attrs: dict,
             t_end: float = 10.0) -> xr.Dataset:
    n_iter = int(round(4 * t_end)) + 1
    time = np.linspace(0.0, t_end, n_iter)
    centres, finals = np.asarray(centres, float), np.asarray(finals, float)
    curves = _curves(n_iter, centres, finals, time)
    n = len(states)
    position = np.full(n, -1)
    for k, i in enumerate(on_path_order):
        position[i] = k
    data = {
        "PD": (("iteration", "state"), curves["PD"], {"long_name": "policy divergence", "units": "nats"}),
        "CD": (("iteration", "state"), curves["CD"], {"long_name": "counter difference", "units": "visits"}),
    }
    value = 2.0 / (1 + np.exp(-(time - 4.0)))
    data.update(
        objective=("iteration", value - value[0], {"long_name": "policy value R(A_t) (Eq. 6)", "units": "reward"}),
        priority=("state", np.where(finals > 0, centres, np.nan), {"long_name": "priority", "units": "planning time"}),
        on_optimal_path=("state", position >= 0),
        optimal_path_position=("state", position, {"long_name": "position on the optimal path", "units": "steps"}),
        edge_source=("edge", np.asarray(edges, dtype=np.int64).reshape(-1, 2)[:, 0]),
        edge_target=("edge", np.asarray(edges, dtype=np.int64).reshape(-1, 2)[:, 1]),
    )
    data.update(extra)
    return xr.Dataset(
        data,
        coords={
            "iteration": np.arange(n_iter),
            "time": ("iteration", time, {"long_name": "planning time", "units": "planning time"}),
            "state": states,
        },
        attrs={"optimal_objective": float(value[-1] - value[0]), **attrs},
    )


def graph_measures(t_end: float = 10.0) -> xr.Dataset:
    """Seven states in three clusters (a tiny Hanoi-like triangle), S=0, G=6.

    The dynamics settle by planning time 15; ``t_end`` is the last stored time.

    Layout: a triangle of three pairs plus the apex; the edges (the state graph)
    join the states at unit distance. Bottlenecks 1, 2 (between the red and grey
    clusters) and 3, 4.
    """
    states = [f"s{i}" for i in range(7)]
    h = np.sqrt(3) / 2
    xy = np.array([[0, 0], [1, 0], [2, 0], [1.5, h], [0.5, h], [3, 0], [1.0, 2 * h]])
    # path: s0 -> s4 -> s6 (S, bottleneck, G); s1..s3, s5 off the path
    return _dataset(
        states,
        centres=[6.0, 4.0, 5.0, 3.5, 3.0, 7.0, 1.5],
        finals=[1.0, 0.8, 0.6, 0.9, 1.0, 0.5, 1.2],
        on_path_order=[0, 4, 6],
        edges=[(0, 1), (0, 4), (1, 2), (1, 3), (1, 4), (2, 3), (2, 5), (3, 4), (3, 6), (4, 6)],
        extra={
            "layout_x": ("state", xy[:, 0]),
            "layout_y": ("state", xy[:, 1]),
            "cluster": ("state", np.array([0, 0, 1, 2, 0, 1, 2])),
            "role_goal": ("state", np.array([0, 0, 0, 0, 0, 0, 1], dtype=np.int8)),
            "role_bottleneck": ("state", np.array([0, 1, 1, 0, 1, 0, 0], dtype=np.int8)),
            "final_occupancy": ("state", np.array([1.0, 0, 0, 0, 0.9, 0, 8.0])),
        },
        attrs={"start_state": "s0", "paper_env": ""},
        t_end=t_end,
    )


def grid_measures() -> xr.Dataset:
    """A 5 x 7 grid: two rooms joined by a doorway, a wormhole from room to room.

        wwwwwww
        wS.w..w
        w.W...w      W: wormhole entrance (2,2), X: exit (3,4)
        w..wXGw      doorway: (2,3)
        wwwwwww
    """
    walls = np.array([list(r) for r in ["wwwwwww", "w..w..w", "w.....w", "w..w..w", "wwwwwww"]]) == "w"
    rows, cols = np.nonzero(~walls)
    n = rows.size
    index = {(r, c): i for i, (r, c) in enumerate(zip(rows, cols))}

    def mask(*cells):
        out = np.zeros(n, dtype=np.int8)
        for cell in cells:
            out[index[cell]] = 1
        return out

    path = [index[c] for c in [(1, 1), (2, 1), (2, 2), (3, 4), (3, 5)]]
    # the state graph: moves between neighbouring open cells, and the wormhole's jump
    edges = [(index[r, c], index[r + dr, c + dc]) for (r, c) in index for dr, dc in ((0, 1), (1, 0))
             if (r + dr, c + dc) in index]
    edges.append((index[2, 2], index[3, 4]))
    centres = 2.0 + 0.4 * np.arange(n)
    finals = np.linspace(0.5, 1.5, n)
    occupancy = np.zeros(n)
    occupancy[path] = [1.0, 0.9, 0.8, 0.7, 6.0]
    return _dataset(
        [f"r{r}c{c}" for r, c in zip(rows, cols)],
        centres=centres,
        finals=finals,
        on_path_order=path,
        edges=sorted(edges),
        extra={
            "cell_row": ("state", rows),
            "cell_col": ("state", cols),
            "wall": (("row", "col"), walls.astype(np.int8)),
            "layout_x": ("state", cols.astype(float)),
            "layout_y": ("state", -rows.astype(float)),
            "role_goal": ("state", mask((3, 5))),
            "role_bottleneck": ("state", mask((2, 3))),
            "role_wormhole_entrance": ("state", mask((2, 2))),
            "role_wormhole_exit": ("state", mask((3, 4))),
            "role_wormhole": ("state", mask((2, 2), (3, 4))),
            "final_occupancy": ("state", occupancy),
        },
        attrs={"start_state": "r1c1", "paper_env": ""},
    )
