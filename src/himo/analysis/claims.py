"""A verdict for each claim of ``spec/PAPER-TARGETS.md``, decided from measures datasets.

Each claim has one small decision function (``decide_H1`` ... ``decide_G1``) that
takes measures dataset(s) (:mod:`himo.analysis.measures`) and returns
``(verdict, numbers)``; its operational definition is written next to it, in
:data:`DEFINITIONS`, and is copied into the report. Verdicts are
``"replicated"``, ``"partly replicated"`` or ``"not replicated"``; a claim whose
run is missing (or lacks the metadata it needs) is ``"not evaluated"``.

Words used by the definitions
-----------------------------
priority
    the planning time at which a state's PD velocity peaks (``priority`` in the
    measures); an earlier time is a higher priority.
on-path states
    the states of the optimal path from the start under the converged policy
    (``on_optimal_path``) that have a priority.
precedes
    ``a`` precedes ``b`` when ``priority(a) < priority(b) - TIE_TOL``; priorities
    within ``TIE_TOL`` of each other are tied (neither precedes).
leads
    a state of a claimed set leads when it precedes every on-path state that is
    neither the goal nor in the claimed set: after the goal, the next priority is
    the claimed set's.
jumps ahead
    a state jumps ahead when it precedes at least one on-path state, other than the
    goal and the claimed set, that lies after it on the path (between it and the
    goal). Value reaches a
    state from the goal backwards, so a pure distance-to-goal order never jumps
    ahead; jumping ahead is the weakest form of "prioritizing" a state.

Runs and variants
-----------------
Claims H1-H4 are decided on the run whose ``paper_env`` is ``"hanoi"``, R1 on
``"fourrooms"``, W1 and W2 on ``"wormhole"`` (W1 also reports the ``"fourrooms"``
run of the same foresight), G1 on every run. The main run of a paper environment is
the one whose ``env_key`` equals its ``paper_env`` (else the first ``env_key`` in
sorted order); every run of that paper environment, the main one included, is also
decided alone and listed under ``robustness`` (``env_key -> settings and verdict``).
"""

from __future__ import annotations

import json
import math
from typing import Callable, Sequence

import numpy as np
import xarray as xr
from scipy import ndimage

REPLICATED = "replicated"
PARTLY = "partly replicated"
NOT = "not replicated"
NOT_EVALUATED = "not evaluated"

#: Priorities closer than this (planning time) are tied.
TIE_TOL = 1e-6
#: H4: CD~ must pass +RISE_TOL (a rise) before -RISE_TOL; a fall is a drop of at
#: least RISE_TOL below the state's CD~ maximum. A guard against round-off only.
RISE_TOL = 1e-3
#: G1: relative tolerance of the converged value against value iteration's optimum.
VALUE_RTOL = 1e-4
#: G1: a reached state's converged policy is deterministic if its most probable
#: action has at least this probability.
DETERMINISTIC_MIN = 1 - 1e-3
#: G1: a state is reached if its final occupancy D_0s exceeds this.
REACHED_MIN = 1e-6
#: JSON floats are rounded to this many significant digits.
SIGNIFICANT = 6

CLAIMS = {
    "H1": ("1", "hanoi",
           "Of all actions in all states, HIMO first prioritizes STOP at the goal: the goal's PD "
           "velocity peaks before every other state's."),
    "H2": ("1", "hanoi",
           "Along the optimal path, the second priority goes to the bottleneck between the red "
           "(start) and blue (goal) clusters."),
    "H3": ("1", "hanoi",
           "Local policy optimization at the start state is deferred to last (among on-path states)."),
    "H4": ("1", "hanoi",
           "CD first rises for all states of the goal's cluster, then falls for its non-goal states: "
           "the goal cluster is first treated as one unit, then refined (non-monotonic CD)."),
    "R1": ("2", "fourrooms", "HIMO prioritizes the bottleneck states that enter the goal room."),
    "W1": ("S1", "wormhole", "With the wormhole, the now suboptimal route through the doorways is avoided."),
    "W2": ("S1", "wormhole", "HIMO prioritizes the wormhole's entrance and exit."),
    "G1": ("all", "*", "HIMO converges to the optimal deterministic policy (footnote 1)."),
}

_ORDER = (
    "Priority = planning time of the peak of dPD/dt (parabola-refined); priorities within "
    f"{TIE_TOL:g} are tied. "
)
DEFINITIONS = {
    "H1": _ORDER + (
        "States: all states with a priority. replicated: the goal (role 'goal') precedes every other "
        "state. partly replicated: the goal is tied for the earliest priority among all states, or "
        "precedes every other on-path state but not every state. not replicated: otherwise. The goal's "
        "converged action is reported (the paper reads the goal's priority as that of STOP)."),
    "H2": _ORDER + (
        "States: on-path states. The bridge is the pair of consecutive path states where the path "
        "leaves the start's cluster for the goal's cluster (both bottlenecks, '+'). replicated: a "
        "bridge state leads (precedes every on-path state other than the goal and the bridge), i.e. "
        "takes the second priority after the goal. partly replicated: a bridge state is tied for that "
        "place, or jumps ahead (precedes an on-path state, other than the goal and the claimed states, between it and the goal). not replicated: "
        "otherwise."),
    "H3": _ORDER + (
        "States: on-path states. replicated: every other on-path state precedes the start. partly "
        "replicated: the start is tied for the latest priority. not replicated: otherwise (or the start "
        "has no priority)."),
    "H4": (
        f"States: the goal's cluster (role cluster = the goal's). A state rises first when its CD~ "
        f"reaches +{RISE_TOL:g} before it reaches -{RISE_TOL:g}; it then falls when its final CD~ is at "
        f"least {RISE_TOL:g} below its maximum CD~ (non-monotonic: up, then down). replicated: every "
        "goal-cluster state rises first and every non-goal goal-cluster state then falls. partly "
        "replicated: at least one non-goal goal-cluster state rises first and then falls. not "
        "replicated: none does. The number of non-goal goal-cluster states that end below the prior "
        "(final CD < 0, 'avoided') is reported."),
    "R1": _ORDER + (
        "The goal room is the connected set of open cells around the goal once the doorways (role "
        "'bottleneck') are removed; an entry doorway is a doorway next to a cell of the goal room. "
        "States: on-path states. replicated: the entry doorway(s) on the optimal path lead (take the "
        "priorities right after the goal). partly replicated: an on-path entry doorway is tied for that "
        "place or jumps ahead (precedes an on-path state, other than the goal and the claimed states, between it and the goal). not replicated: "
        "otherwise, or no entry doorway is on the path. The priorities of the other doorways are "
        "reported."),
    "W1": (
        "The route through the wormhole is used when the optimal path from the start under the "
        "converged policy contains the entrance followed by the exit (the WARP action). A doorway is "
        "avoided when its final CD is negative (fewer expected visits than under the prior policy). "
        "replicated: the wormhole is used, no doorway is on the path and every doorway is avoided. "
        "partly replicated: the wormhole is used but a doorway is on the path or not avoided. not "
        "replicated: the path does not use the wormhole. The four-room run of the same foresight is "
        "reported for comparison (its doorways on the path and their final CD)."),
    "W2": _ORDER + (
        "States: on-path states; the claimed set is the wormhole entrance and exit (roles "
        "'wormhole_entrance', 'wormhole_exit'). replicated: both are on the path and both lead (after "
        "the goal, the next two priorities are theirs). partly replicated: one of them leads, is tied "
        "for that place, or jumps ahead (precedes an on-path state, other than the goal and the claimed states, between it and the goal). not "
        "replicated: otherwise, or they are not on the path."),
    "G1": (
        f"Every main run (each environment at its default settings; the sweep variants are "
        f"judged one by one under robustness): optimal when |final R(A) - V*(s0)| <= {VALUE_RTOL:g} |V*(s0)| (V* from value "
        f"iteration); deterministic when every reached state (final D_0s > {REACHED_MIN:g}) has an action "
        f"of probability >= {DETERMINISTIC_MIN:g}. replicated: every run is optimal, deterministic and "
        "stopped by the convergence test. partly replicated: every run is optimal, but some run is not "
        "deterministic on a reached state or did not meet the convergence test. not replicated: some "
        "run is not optimal."),
}


class NotEvaluable(Exception):
    """The run lacks what a claim needs (a role, a cluster, a grid)."""


# ----------------------------------------------------------------- helpers
def _labels(ds: xr.Dataset) -> np.ndarray:
    return np.asarray([str(s) for s in ds["state"].values])


def _role(ds: xr.Dataset, name: str) -> np.ndarray:
    var = f"role_{name}"
    if var not in ds:
        raise NotEvaluable(f"the run has no role {name!r}")
    return np.asarray(ds[var].values).astype(bool)


def _goal(ds: xr.Dataset) -> int:
    goals = np.flatnonzero(_role(ds, "goal"))
    if goals.size != 1:
        raise NotEvaluable(f"the run has {goals.size} goal states, not one")
    return int(goals[0])


def _start(ds: xr.Dataset) -> int:
    labels = list(_labels(ds))
    start = str(ds.attrs.get("start_state", ""))
    if start not in labels:
        raise NotEvaluable("the run does not name its start state")
    return labels.index(start)


def _path(ds: xr.Dataset) -> list[int]:
    pos = np.asarray(ds["optimal_path_position"].values)
    on = np.flatnonzero(pos >= 0)
    return [int(s) for s in on[np.argsort(pos[on])]]


def _priority(ds: xr.Dataset) -> np.ndarray:
    return np.asarray(ds["priority"].values, dtype=float)


def _precedes(a: float, b: float) -> bool:
    return bool(a < b - TIE_TOL)


def _tied(a: float, b: float) -> bool:
    return bool(abs(a - b) <= TIE_TOL)


def _path_order(ds: xr.Dataset) -> list[list]:
    """On-path states with a priority, in priority order: [[label, priority, path position], ...]."""
    labels, prio = _labels(ds), _priority(ds)
    path = [s for s in _path(ds) if np.isfinite(prio[s])]
    pos = {s: i for i, s in enumerate(_path(ds))}
    path.sort(key=lambda s: (prio[s], pos[s]))
    return [[str(labels[s]), float(prio[s]), pos[s]] for s in path]


def _lead_status(ds: xr.Dataset, claimed: Sequence[int], goal: int) -> dict:
    """For each claimed on-path state: does it lead, tie for the lead, jump ahead?"""
    prio, labels, path = _priority(ds), _labels(ds), _path(ds)
    pos = {s: i for i, s in enumerate(path)}
    others = [s for s in path if s != goal and s not in claimed and np.isfinite(prio[s])]
    out = {}
    for c in claimed:
        if c not in pos or not np.isfinite(prio[c]):
            out[str(labels[c])] = {"on_path": c in pos, "priority": float(prio[c]), "leads": False,
                                   "tied_for_lead": False, "jumps_ahead_of": []}
            continue
        leads = all(_precedes(prio[c], prio[o]) for o in others)
        tied = not leads and all(_precedes(prio[c], prio[o]) or _tied(prio[c], prio[o]) for o in others)
        downstream = [o for o in others if pos[o] > pos[c] and _precedes(prio[c], prio[o])]
        out[str(labels[c])] = {
            "on_path": True, "priority": float(prio[c]), "path_position": pos[c],
            "rank_on_path": 1 + sum(_precedes(prio[o], prio[c]) for o in path if np.isfinite(prio[o])),
            "leads": leads, "tied_for_lead": tied,
            "jumps_ahead_of": [str(labels[o]) for o in downstream],
        }
    return out


# ----------------------------------------------------------------- decisions
def _lead_verdict(status: dict, every: bool) -> str:
    """From :func:`_lead_status`: replicated when every claimed state leads (or, with
    ``every=False``, one of them does); partly when some claimed state leads, is tied
    for the lead or jumps ahead; not replicated otherwise."""
    leads = [v["leads"] for v in status.values()]
    if all(leads) if every else any(leads):
        return REPLICATED
    if any(v["leads"] or v["tied_for_lead"] or v["jumps_ahead_of"] for v in status.values()):
        return PARTLY
    return NOT


def decide_H1(ds: xr.Dataset) -> tuple[str, dict]:
    """H1 (Fig. 1B, 1D): the goal's PD velocity peaks before every other state's."""
    prio, labels = _priority(ds), _labels(ds)
    goal = _goal(ds)
    others = [s for s in range(prio.size) if s != goal and np.isfinite(prio[s])]
    on_path = set(_path(ds))
    earliest = min(others, key=lambda s: prio[s]) if others else None
    first_all = np.isfinite(prio[goal]) and all(_precedes(prio[goal], prio[s]) for s in others)
    tied_all = np.isfinite(prio[goal]) and not first_all and all(
        not _precedes(prio[s], prio[goal]) for s in others)
    first_path = np.isfinite(prio[goal]) and all(_precedes(prio[goal], prio[s]) for s in others if s in on_path)
    verdict = REPLICATED if first_all else PARTLY if (tied_all or first_path) else NOT
    return verdict, {
        "goal": str(labels[goal]),
        "goal_priority": float(prio[goal]),
        "goal_final_action": str(ds["final_action"].values[goal]) if "final_action" in ds else None,
        "earliest_other_state": None if earliest is None else str(labels[earliest]),
        "earliest_other_priority": None if earliest is None else float(prio[earliest]),
        "states_not_after_goal": [str(labels[s]) for s in others if not _precedes(prio[goal], prio[s])],
        "goal_first_among_all_states": bool(first_all),
        "goal_first_among_on_path_states": bool(first_path),
    }


def decide_H2(ds: xr.Dataset) -> tuple[str, dict]:
    """H2 (Fig. 1D): the second on-path priority goes to the red-blue bottleneck."""
    if "cluster" not in ds:
        raise NotEvaluable("the run has no clusters")
    cluster, labels = np.asarray(ds["cluster"].values), _labels(ds)
    goal, start, path = _goal(ds), _start(ds), _path(ds)
    bridge = [s for a, b in zip(path, path[1:])
              if cluster[a] == cluster[start] and cluster[b] == cluster[goal] for s in (a, b)]
    if not bridge:
        return NOT, {"bridge": [], "note": "the optimal path never crosses from the start's to the goal's cluster",
                     "on_path_priority_order": _path_order(ds)}
    bottleneck = _role(ds, "bottleneck") if "role_bottleneck" in ds else np.zeros(labels.size, bool)
    status = _lead_status(ds, bridge, goal)
    return _lead_verdict(status, every=False), {
        "bridge": [str(labels[s]) for s in bridge],
        "bridge_are_bottlenecks": [bool(bottleneck[s]) for s in bridge],
        "bridge_status": status,
        "on_path_priority_order": _path_order(ds),
    }


def decide_H3(ds: xr.Dataset) -> tuple[str, dict]:
    """H3 (Fig. 1D): the start's priority is the latest among on-path states."""
    prio, labels = _priority(ds), _labels(ds)
    start = _start(ds)
    others = [s for s in _path(ds) if s != start and np.isfinite(prio[s])]
    numbers = {"start": str(labels[start]), "start_priority": float(prio[start]),
               "on_path_priority_order": _path_order(ds)}
    if not np.isfinite(prio[start]):
        return NOT, numbers
    last = all(_precedes(prio[s], prio[start]) for s in others)
    tied = not last and all(not _precedes(prio[start], prio[s]) for s in others)
    numbers["latest_other_on_path"] = max((float(prio[s]) for s in others), default=None)
    return (REPLICATED if last else PARTLY if tied else NOT), numbers


def decide_H4(ds: xr.Dataset) -> tuple[str, dict]:
    """H4 (Fig. 1E): goal-cluster CD~ rises first for all, then falls for the non-goal states."""
    if "cluster" not in ds:
        raise NotEvaluable("the run has no clusters")
    cluster, labels = np.asarray(ds["cluster"].values), _labels(ds)
    goal = _goal(ds)
    members = np.flatnonzero(cluster == cluster[goal])
    cdn = np.asarray(ds["CD_norm"].transpose("iteration", "state").values, dtype=float)
    cd_final = np.asarray(ds["CD"].transpose("iteration", "state").values, dtype=float)[-1]
    per_state, rises, falls = {}, {}, {}
    for s in members:
        series = cdn[:, s]
        up = np.flatnonzero(series >= RISE_TOL)
        down = np.flatnonzero(series <= -RISE_TOL)
        rises[s] = bool(up.size and (not down.size or up[0] < down[0]))
        falls[s] = bool(rises[s] and series[-1] <= series.max() - RISE_TOL)
        per_state[str(labels[s])] = {
            "max_CD_norm": float(series.max()), "final_CD_norm": float(series[-1]),
            "final_CD": float(cd_final[s]), "rises_first": rises[s], "then_falls": falls[s],
            "on_path": bool(ds["on_optimal_path"].values[s]),
        }
    non_goal = [s for s in members if s != goal]
    all_rise = all(rises[s] for s in members)
    all_fall = all(falls[s] for s in non_goal)
    some = any(falls[s] for s in non_goal)
    verdict = REPLICATED if (all_rise and all_fall) else PARTLY if some else NOT
    return verdict, {
        "goal_cluster": [str(labels[s]) for s in members],
        "n_rise_first": int(sum(rises.values())),
        "n_non_goal_rise_then_fall": int(sum(falls[s] for s in non_goal)),
        "n_non_goal": len(non_goal),
        "n_non_goal_final_CD_negative": int(sum(cd_final[s] < 0 for s in non_goal)),
        "states": per_state,
    }


def goal_room_entries(ds: xr.Dataset) -> list[int]:
    """Doorways (role 'bottleneck') next to the goal's room (grid worlds only)."""
    for name in ("cell_row", "cell_col", "wall"):
        if name not in ds:
            raise NotEvaluable(f"the run is not a grid world (no {name!r})")
    rows = np.asarray(ds["cell_row"].values, dtype=int)
    cols = np.asarray(ds["cell_col"].values, dtype=int)
    walls = np.asarray(ds["wall"].values).astype(bool)
    door = _role(ds, "bottleneck")
    goal = _goal(ds)
    open_ = ~walls.copy()
    open_[rows[door], cols[door]] = False
    rooms, _ = ndimage.label(open_)  # 4-connectivity
    goal_room = rooms[rows[goal], cols[goal]]
    room_mask = rooms == goal_room
    entries = []
    for s in np.flatnonzero(door):
        r, c = rows[s], cols[s]
        for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            rr, cc = r + dr, c + dc
            if 0 <= rr < walls.shape[0] and 0 <= cc < walls.shape[1] and room_mask[rr, cc]:
                entries.append(int(s))
                break
    return entries


def decide_R1(ds: xr.Dataset) -> tuple[str, dict]:
    """R1 (Fig. 2D): the doorways entering the goal room are prioritized."""
    labels, prio = _labels(ds), _priority(ds)
    goal, path = _goal(ds), _path(ds)
    entries = goal_room_entries(ds)
    on_path = [s for s in entries if s in path]
    doors = np.flatnonzero(_role(ds, "bottleneck"))
    numbers = {
        "entry_doorways": [str(labels[s]) for s in entries],
        "entry_doorways_on_path": [str(labels[s]) for s in on_path],
        "doorway_priorities": {str(labels[s]): float(prio[s]) for s in doors},
        "on_path_priority_order": _path_order(ds),
    }
    if not on_path:
        return NOT, numbers
    status = _lead_status(ds, on_path, goal)
    numbers["entry_status"] = status
    return _lead_verdict(status, every=True), numbers


def _wormhole(ds: xr.Dataset) -> tuple[int, int]:
    entrance = np.flatnonzero(_role(ds, "wormhole_entrance"))
    exit_ = np.flatnonzero(_role(ds, "wormhole_exit"))
    if entrance.size != 1 or exit_.size != 1:
        raise NotEvaluable("the run has no single wormhole entrance and exit")
    return int(entrance[0]), int(exit_[0])


def _doorway_summary(ds: xr.Dataset) -> dict:
    labels, path = _labels(ds), _path(ds)
    cd = np.asarray(ds["CD"].transpose("iteration", "state").values, dtype=float)[-1]
    occ = np.asarray(ds["final_occupancy"].values, dtype=float)
    return {str(labels[s]): {"on_path": s in path, "final_CD": float(cd[s]), "final_occupancy": float(occ[s])}
            for s in np.flatnonzero(_role(ds, "bottleneck"))}


def decide_W1(ds: xr.Dataset, reference: xr.Dataset | None = None) -> tuple[str, dict]:
    """W1 (Fig. S1): with the wormhole, the route through the doorways is avoided."""
    entrance, exit_ = _wormhole(ds)
    labels, path = _labels(ds), _path(ds)
    used = entrance in path and exit_ in path and path.index(exit_) == path.index(entrance) + 1
    doors = _doorway_summary(ds)
    numbers = {
        "optimal_path": [str(labels[s]) for s in path],
        "wormhole_used": bool(used),
        "doorways": doors,
        "doorways_on_path": sorted(k for k, v in doors.items() if v["on_path"]),
        "total_final_doorway_occupancy": float(sum(v["final_occupancy"] for v in doors.values())),
    }
    if reference is not None:
        ref = _doorway_summary(reference)
        numbers["fourrooms_reference"] = {
            "env_key": str(reference.attrs.get("env_key", "")),
            "doorways_on_path": sorted(k for k, v in ref.items() if v["on_path"]),
            "doorways": ref,
        }
    if not used:
        return NOT, numbers
    avoided = not numbers["doorways_on_path"] and all(v["final_CD"] < 0 for v in doors.values())
    return (REPLICATED if avoided else PARTLY), numbers


def decide_W2(ds: xr.Dataset) -> tuple[str, dict]:
    """W2 (Fig. S1): the wormhole's entrance and exit are prioritized."""
    entrance, exit_ = _wormhole(ds)
    goal = _goal(ds)
    status = _lead_status(ds, [entrance, exit_], goal)
    numbers = {"wormhole_status": status, "on_path_priority_order": _path_order(ds)}
    if not all(v["on_path"] for v in status.values()):
        return NOT, numbers
    return _lead_verdict(status, every=True), numbers


def _g1_run(ds: xr.Dataset) -> dict:
    final = float(ds["objective"].values[-1])
    optimum = float(ds.attrs.get("optimal_objective", math.nan))
    occ = np.asarray(ds["final_occupancy"].values, dtype=float)
    pmax = np.asarray(ds["final_max_probability"].values, dtype=float)
    reached = occ > REACHED_MIN
    worst = int(np.flatnonzero(reached)[np.argmin(pmax[reached])]) if reached.any() else None
    gap = abs(final - optimum) / max(abs(optimum), 1e-300)
    return {
        "final_objective": final, "optimal_objective": optimum, "relative_gap": gap,
        "optimal": bool(gap <= VALUE_RTOL),
        "deterministic_on_reached_states": bool(reached.any() and pmax[reached].min() >= DETERMINISTIC_MIN),
        "n_reached_not_deterministic": int(np.sum(reached & (pmax < DETERMINISTIC_MIN))),
        "least_deterministic_reached_state": None if worst is None else str(_labels(ds)[worst]),
        "least_deterministic_probability": None if worst is None else float(pmax[worst]),
        "stop_reason": str(ds.attrs.get("stop_reason", "")),
        "n_iterations": int(ds.attrs.get("n_iterations", -1)),
    }


def decide_G1(runs: Sequence[xr.Dataset]) -> tuple[str, dict]:
    """G1 (footnote 1): every run converges to the optimal deterministic policy."""
    per_run = {_key(ds): _g1_run(ds) for ds in runs}
    if not per_run:
        raise NotEvaluable("no runs")
    if not all(r["optimal"] for r in per_run.values()):
        verdict = NOT
    elif all(r["deterministic_on_reached_states"] and r["stop_reason"] == "converged" for r in per_run.values()):
        verdict = REPLICATED
    else:
        verdict = PARTLY
    return verdict, {"runs": per_run}


# ------------------------------------------------------------------ assembly
def _key(ds: xr.Dataset) -> str:
    return str(ds.attrs.get("env_key", "")) or str(ds.attrs.get("environment", "run"))


def settings(ds: xr.Dataset) -> dict:
    """The open choices a verdict rests on, from the run's attributes."""
    a = ds.attrs
    return {
        "env_key": _key(ds),
        "paper_env": str(a.get("paper_env", "")),
        "foresight": a.get("foresight"),
        "goal_reward": a.get("env_goal_reward"),
        "step_reward": a.get("env_step_reward"),
        "method": a.get("method"),
        "step": a.get("step"),
        "dependent_rule": a.get("dependent_rule"),
        "e_form": a.get("e_form"),
        "stop_reason": a.get("stop_reason"),
    }


def _is_main_run(ds: xr.Dataset) -> bool:
    """A run at its environment's default settings: not a variant of a paper environment."""
    paper_env = str(ds.attrs.get("paper_env", ""))
    return not paper_env or _key(ds) == paper_env


def _runs_of(runs: Sequence[xr.Dataset], paper_env: str) -> list[xr.Dataset]:
    found = [ds for ds in runs if str(ds.attrs.get("paper_env", "")) == paper_env]
    main = [ds for ds in found if _key(ds) == paper_env]
    rest = sorted((ds for ds in found if _key(ds) != paper_env), key=_key)
    return main + rest


def _decide(decide: Callable, *args) -> tuple[str, dict]:
    try:
        return decide(*args)
    except NotEvaluable as err:
        return NOT_EVALUATED, {"reason": str(err)}


def _reference_for(ds: xr.Dataset, fourrooms: Sequence[xr.Dataset]) -> xr.Dataset | None:
    same = [r for r in fourrooms if r.attrs.get("foresight") == ds.attrs.get("foresight")]
    return same[0] if same else None


def evaluate_claims(runs: Sequence[xr.Dataset]) -> dict:
    """Decide every claim id on ``runs`` (measures datasets); one record per id."""
    deciders = {"H1": decide_H1, "H2": decide_H2, "H3": decide_H3, "H4": decide_H4,
                "R1": decide_R1, "W1": decide_W1, "W2": decide_W2}
    fourrooms = _runs_of(runs, "fourrooms")
    records = {}
    for cid, (figure, paper_env, statement) in CLAIMS.items():
        record = {"id": cid, "figure": figure, "statement": statement, "definition": DEFINITIONS[cid],
                  "paper_env": paper_env}
        if cid == "G1":
            main_runs = [ds for ds in runs if _is_main_run(ds)]
            verdict, numbers = _decide(decide_G1, main_runs)
            record.update(verdict=verdict, numbers=numbers,
                          runs=sorted(_key(ds) for ds in main_runs),
                          choices={_key(ds): settings(ds) for ds in runs},
                          robustness={_key(ds): {**settings(ds), "verdict": _decide(decide_G1, [ds])[0]}
                                      for ds in runs})
            records[cid] = record
            continue
        candidates = _runs_of(runs, paper_env)
        extra = (lambda ds: (ds, _reference_for(ds, fourrooms))) if cid == "W1" else (lambda ds: (ds,))
        if not candidates:
            record.update(verdict=NOT_EVALUATED, numbers={"reason": f"no run with paper_env {paper_env!r}"},
                          run=None, choices={}, robustness={})
        else:
            main = candidates[0]
            verdict, numbers = _decide(deciders[cid], *extra(main))
            record.update(verdict=verdict, numbers=numbers, run=_key(main), choices=settings(main),
                          robustness={_key(ds): {**settings(ds), "verdict": _decide(deciders[cid], *extra(ds))[0]}
                                      for ds in candidates})
        records[cid] = record
    return records


# -------------------------------------------------------------------- output
def _clean(value):
    """JSON-ready: numpy to Python, floats to SIGNIFICANT digits, NaN and inf to None."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if not math.isfinite(value):
            return None
        return float(f"{value:.{SIGNIFICANT}g}")
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    if value is None or isinstance(value, str):
        return value
    return str(value)


def claims_json(records: dict) -> str:
    """Deterministic JSON text: sorted keys, rounded floats, one entry per claim id."""
    return json.dumps(_clean(records), sort_keys=True, indent=2, allow_nan=False) + "\n"


def claims_markdown(records: dict) -> str:
    """A readable report: a summary table, then each claim's definition, numbers and robustness."""
    records = _clean(records)
    lines = ["# Claims of the paper and their verdicts", "",
             "Decided by `himo claims` (himo.analysis.claims) from the measures of each run.", "",
             "| id | figure | verdict | run | robustness (run: verdict) |", "|---|---|---|---|---|"]
    for cid in sorted(records):
        r = records[cid]
        rob = "; ".join(f"{k}: {v['verdict']}" for k, v in sorted(r.get("robustness", {}).items()))
        run = r.get("run") or ", ".join(r.get("runs", [])) or "-"
        lines.append(f"| {cid} | {r['figure']} | **{r['verdict']}** | {run} | {rob} |")
    for cid in sorted(records):
        r = records[cid]
        lines += ["", f"## {cid} (Fig. {r['figure']}): {r['verdict']}", "",
                  f"**The paper says.** {r['statement']}", "",
                  f"**Operational definition.** {r['definition']}", ""]
        if r.get("robustness"):
            lines += ["**Robustness.**", "", "| run | foresight | goal reward | step reward | method | step "
                      "| dependent | verdict |", "|---|---|---|---|---|---|---|---|"]
            for k, v in sorted(r["robustness"].items()):
                lines.append(f"| {k} | {v.get('foresight')} | {v.get('goal_reward')} | {v.get('step_reward')} "
                             f"| {v.get('method')} | {v.get('step')} | {v.get('dependent_rule')} "
                             f"| {v['verdict']} |")
            lines.append("")
        lines += ["**Numbers.**", "", "```json",
                  json.dumps(r.get("numbers", {}), sort_keys=True, indent=1), "```"]
    return "\n".join(lines) + "\n"
