"""The bottleneck lift: how far a run moves each claimed bottleneck ahead of value propagation.

The paper's thesis is that the natural step puts bottlenecks early: ahead of where
dynamic programming (DP), which settles states in order of their distance to the
goal, would put them. The claims H2, R1 and W2 name those states (the Hanoi bridge,
the doorways that enter the goal room, the wormhole's entrance and exit: each claim's
``claimed``, :class:`himo.verdicts.judging.Claim`;
:func:`himo.verdicts.judging.claimed_states`). For each run and each such state,
and for the state from which it is crossed, the lift is

    lift = dp_rank - rank,

both ranks counted on the run's own optimal path, the first state settled (the goal)
first, with 1 for the first:

* ``rank`` is 1 + the number of on-path states whose priority precedes the state's
  by the project's tie rule (:func:`himo.measures.orders.precedes`: the time grid's
  resolution between the two; the measures' ``priority_rank`` + 1);
* ``dp_rank`` is 1 + the number of those same on-path states that DP settles at an
  earlier sweep (``dp_priority``, an exact order: :func:`himo.measures.orders.precedence_ranks`
  with no grid).

A positive lift is a state the run settles earlier than value propagation would; zero
is the DP order's place; negative, later. ``tied`` says the state's priority is tied
by the rule with another on-path state's, so its rank is one of several it could
take. A state off the run's own path has no rank on it: its row is kept, with
``on_path`` false and no lift.

**The state a bottleneck is crossed from** (role ``before <role>``): on the run's
path, the state just before the bottleneck; off it, the bottleneck's neighbour in
the state graph that lies one step farther from the goal (``goal_distance``), the
lowest-numbered if several do. It is left out when it is itself a claimed state
(the wormhole's exit is crossed from its entrance).

:func:`lift_table` gives one row per run and state (``results/bottleneck_lift.csv``,
columns :data:`LIFT_COLUMNS`); :func:`lift_profile` the lines of ``figures/lift.png``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import xarray as xr

from himo.measures import orders, states
from himo.verdicts.baselines import method_family
from himo.verdicts.judging import Claim, claimed_states, priorities, run_key, time_grid

#: The columns of results/bottleneck_lift.csv, in order.
LIFT_COLUMNS = ("run", "method", "family", "foresight", "paper_env", "compared", "state", "role", "on_path",
                "priority", "dp_rank", "rank", "lift", "tied", "tied_with", "stop_reason")

#: The role of the state from which a claimed state of role ``role`` is crossed.
BEFORE = "before {role}"

#: What the lift reads from each measures file (docs/CONTRACTS.md), besides the roles;
#: and what the claims' ``claimed`` read where a run has it (clusters, the state graph,
#: the grid).
REQUIRED = ("objective", "priority", "optimal_path_position", "dp_priority")
OPTIONAL = ("goal_distance", "cluster", "edge_source", "edge_target", *states.GRID_VARIABLES)


def crossed_from(ds: xr.Dataset, state: int) -> int | None:
    """The state from which ``state`` is crossed (module docstring); None if there is none."""
    path = [int(s) for s in states.optimal_path(ds)]
    if state in path:
        i = path.index(state)
        return path[i - 1] if i > 0 else None
    graph = states.edges(ds)
    if graph is None or "goal_distance" not in ds:
        return None
    distance = np.asarray(ds["goal_distance"].values, dtype=int)
    neighbours = {int(b) for a, b in graph if a == state} | {int(a) for a, b in graph if b == state}
    farther = sorted(n for n in neighbours if distance[state] >= 0 and distance[n] == distance[state] + 1)
    return farther[0] if farther else None


def followed_states(ds: xr.Dataset, claims: Sequence[Claim]) -> list[tuple[int, str]]:
    """The claimed states and the states they are crossed from, each with its role."""
    claimed = claimed_states(ds, claims)
    named = {state for state, _ in claimed}
    rows = []
    for state, role in claimed:
        rows.append((state, role))
        before = crossed_from(ds, state)
        if before is not None and before not in named:
            rows.append((before, BEFORE.format(role=role)))
    return rows


def path_ranks(ds: xr.Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rank, dp_rank, ranked)``: each state's 1-based rank by priority and by DP sweep
    among the ranked states (on the path, with a priority), 0 elsewhere, and the mask
    of the ranked states."""
    prio, time = priorities(ds), time_grid(ds)
    ranked = states.on_path(ds) & np.isfinite(prio) & ("optimal_path_position" in ds)
    rank = np.zeros(prio.size, dtype=np.int64)
    dp_rank = np.zeros(prio.size, dtype=np.int64)
    if ranked.any():
        rank[ranked] = orders.precedence_ranks(prio[ranked], time) + 1
        dp = np.asarray(ds["dp_priority"].values, dtype=float)
        dp_rank[ranked] = orders.precedence_ranks(dp[ranked], None) + 1
    return rank, dp_rank, ranked


def run_rows(ds: xr.Dataset, claims: Sequence[Claim], compared: bool = False) -> list[dict]:
    """The rows of one run (:data:`LIFT_COLUMNS`); ``compared``: the run is one of those
    that vary the foresight alone around its environment's main run, by method family
    (:func:`himo.verdicts.baselines.comparison_runs`: the runs of the lift figure and of
    the report's lift table)."""
    followed = followed_states(ds, claims)
    if not followed:
        return []
    labels, prio, time = states.labels(ds), priorities(ds), time_grid(ds)
    rank, dp_rank, ranked = path_ranks(ds)
    others = np.flatnonzero(ranked)
    a = ds.attrs
    rows = []
    for state, role in followed:
        on = bool(ranked[state])
        tied_with = [int(o) for o in others if o != state and on and orders.tied(prio[state], prio[o], time)]
        rows.append({
            "run": run_key(ds), "method": str(a.get("method", "")), "family": method_family(ds) or "",
            "foresight": float(a.get("foresight", np.nan)), "paper_env": str(a.get("paper_env", "")),
            "compared": compared,
            "state": labels[state], "role": role, "on_path": on,
            "priority": float(prio[state]),
            "dp_rank": int(dp_rank[state]) if on else None, "rank": int(rank[state]) if on else None,
            "lift": int(dp_rank[state] - rank[state]) if on else None,
            "tied": bool(tied_with), "tied_with": " ".join(labels[o] for o in tied_with),
            "stop_reason": str(a.get("stop_reason", "")),
        })
    return rows


def lift_table(runs: Sequence[xr.Dataset], claims: Sequence[Claim] | None = None) -> list[dict]:
    """One row per run and followed state (module docstring), the runs by paper
    environment and then by name, the states in claim order; runs of no paper
    environment have none."""
    from himo.verdicts.baselines import compared_run_keys

    if claims is None:
        from himo.verdicts.claims import CLAIMS as claims
    compared = compared_run_keys(runs)
    ordered = sorted(runs, key=lambda ds: (str(ds.attrs.get("paper_env", "")), run_key(ds)))
    return [row for ds in ordered for row in run_rows(ds, claims, run_key(ds) in compared)]


def lift_profile(rows: Sequence[dict], runs: Sequence[xr.Dataset]) -> dict:
    """The lines of the lift figure: ``{paper_env: {family: {(state, role): [row, ...]}}}``,
    each line's rows sorted by foresight, over the runs that vary the foresight alone
    around the environment's main run (:func:`himo.verdicts.baselines.comparison_runs`,
    the runs of the baselines figure); environments and families in the paper's
    order (:data:`himo.verdicts.baselines.METHOD_FAMILIES`)."""
    from himo.verdicts.baselines import METHOD_FAMILIES, comparison_runs, paper_environments

    profile: dict = {}
    for env in paper_environments(runs):
        for family in METHOD_FAMILIES:
            names = {run_key(ds) for ds in comparison_runs(runs, env, family).values()}
            lines: dict = {}
            for row in rows:
                if row["paper_env"] == env and row["run"] in names and row["compared"]:
                    lines.setdefault((row["state"], row["role"]), []).append(row)
            if lines:
                profile.setdefault(env, {})[family] = {
                    key: sorted(line, key=lambda row: row["foresight"]) for key, line in lines.items()}
    return profile
