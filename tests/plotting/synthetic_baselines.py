"""Synthetic measures of the runs the baselines figure compares (a plain module, not a conftest).

Built by hand, not by the pipeline: each run is a small measures dataset with the
variables and attributes the comparison reads (docs/CONTRACTS.md), its Kendall tau
computed by :func:`himo.measures.orders.compare_orders` from priorities chosen here.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from himo.measures.orders import compare_orders

#: Two environments: the length of the optimal path (the goal last) and the off-path states.
PATHS = {"hanoi": 6, "fourrooms": 9}
OFF_PATH = 2
GRID_STEP = 0.1


def run(paper_env: str, env_key: str, method: str, foresight: float, priorities, step: float = 0.1,
        reached: float = 1.0, detour: int | None = None, **attrs) -> xr.Dataset:
    """One run of ``paper_env``: on-path ``priorities`` in path order (start first, goal
    last), the off-path states late; its objective covers ``reached`` of the way from
    0 to the optimum 1. With ``detour`` (a path position), the run's path passes the
    first off-path state there instead (a tied shortest route: it is as far from the
    goal), and the state it leaves out is off its path."""
    n_path = PATHS[paper_env]
    n = n_path + OFF_PATH
    labels = [f"{paper_env[0]}{i}" for i in range(n)]
    distance = np.concatenate([np.arange(n_path)[::-1], [n_path, n_path + 1]])  # off-path: farther
    prio = np.concatenate([np.asarray(priorities, dtype=float), [9.0, 9.5]])
    time = np.arange(0.0, 12.0 + 1e-9, GRID_STEP)
    position = np.concatenate([np.arange(n_path), [-1] * OFF_PATH])
    if detour is not None:
        other = n_path  # the first off-path state
        distance[other] = distance[detour]
        position[[detour, other]] = -1, detour
        prio[[detour, other]] = prio[other], prio[detour]
    on_path = position >= 0
    compared = compare_orders(prio, on_path, distance, time)
    gap_rank = np.argsort(np.argsort(np.where(np.arange(n) == 2, -1, distance)))  # the bottleneck's gap largest
    by_gap = compare_orders(prio, on_path, gap_rank, time)
    prior_rank = np.argsort(np.argsort(np.where(np.arange(n) == 1, -1, distance)))  # the start's successor first
    by_prior = compare_orders(prio, on_path, prior_rank, time)
    half = compare_orders(prio + 0.05, on_path, distance, time)
    objective = reached * (1 - np.exp(-time))
    objective = objective / objective[-1] * reached
    tau_attrs = {"resolution": compared.resolution, "n_compared": compared.n_compared,
                 "n_tie_groups": compared.n_groups}
    return xr.Dataset(
        {
            "objective": ("iteration", objective),
            "priority": ("state", prio),
            "priority_half": ("state", prio + 0.05),
            "optimal_path_position": ("state", position),
            "dp_priority": ("state", distance),
            "goal_distance": ("state", distance),
            "priority_rank": ("state", compared.ranks),
            "kendall_tau_dp": ((), compared.tau, tau_attrs),
            "kendall_tau_dp_half": ((), half.tau, dict(tau_attrs, resolution=half.resolution)),
            "kendall_tau_gap": ((), by_gap.tau, tau_attrs),
            "kendall_tau_prior": ((), by_prior.tau, tau_attrs),
            "role_goal": ("state", (distance == 0).astype(np.int8)),
            "role_bottleneck": ("state", (np.arange(n) == 2).astype(np.int8)),
        },
        coords={"iteration": np.arange(time.size), "time": ("iteration", time), "state": labels},
        attrs={
            "paper_env": paper_env, "env_key": env_key, "environment": paper_env, "method": method,
            "foresight": foresight,
            "step": step, "dependent_rule": "argmax", "e_form": "exact", "env_goal_reward": 1.0,
            "env_step_reward": 0.0, "stop_reason": "converged", "n_iterations": time.size - 1,
            "optimal_objective": 1.0, "start_state": labels[0], **attrs,
        },
    )


def distance_order(paper_env: str, spacing: float = 0.5, start: float = 1.0) -> np.ndarray:
    """On-path priorities in the order of the distance to the goal (the goal first)."""
    return start + spacing * np.arange(PATHS[paper_env])[::-1]


def baseline_runs() -> list[xr.Dataset]:
    """HIMO at three foresights (the main run at 0.9), the two first-order baselines and
    the state-averaged natural gradient,
    and runs that must not be compared (another reward convention, map or HIMO step).

    hanoi:     HIMO follows the distance except one swap; gradient reversed at 0.9, on a
               path of its own (h6 instead of h1);
               softmax with every priority tied at 0.9 (tau NaN), not escaped at 0.95;
               Kakade's natural gradient at 0.9, in HIMO's order.
    fourrooms: HIMO follows the distance; gradient at 0.95 only; no softmax run.
    """
    runs = []
    for env in PATHS:
        n = PATHS[env]
        himo_order = distance_order(env)
        if env == "hanoi":
            himo_order[[1, 2]] = himo_order[[2, 1]]
        runs.append(run(env, env, "newton", 0.9, himo_order))
        runs.append(run(env, f"{env}-lam0.8", "natural", 0.8, distance_order(env, spacing=0.8)))
        runs.append(run(env, f"{env}-lam0.95", "natural", 0.95, distance_order(env, spacing=0.3)))
        # not compared (their keys sort first, so only their attributes keep them out):
        # another reward convention, another map, another HIMO step
        reverse = distance_order(env)[::-1].copy()
        runs.append(run(env, "a-stepcost", "natural", 0.95, reverse, env_goal_reward=0.0, env_step_reward=-1.0))
        runs.append(run(env, "a-map", "natural", 0.8, reverse, environment="grid"))
        runs.append(run(env, "a-step1", "newton", 0.95, reverse, step=1.0))
        if env == "hanoi":
            runs.append(run(env, "fo-a", "gradient", 0.9, distance_order(env)[::-1].copy(), step=1.0, detour=1))
            runs.append(run(env, "fo-b", "gradient", 0.95, distance_order(env, spacing=0.15), step=1.0))
            runs.append(run(env, "fo-c", "softmax", 0.9, np.full(n, 4.0) + 0.01 * np.arange(n), step=1.0))
            runs.append(run(env, "fo-d", "softmax", 0.95, distance_order(env), step=1.0, reached=0.5))
            runs.append(run(env, "np-a", "kakade", 0.9, himo_order.copy(), step=1.0))
        else:
            runs.append(run(env, "fo-e", "gradient", 0.95, distance_order(env, spacing=1.0), step=1.0))
    return runs
