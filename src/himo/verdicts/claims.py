"""The paper's claims, one :class:`~himo.verdicts.judging.Claim` object each: the registry :data:`CLAIMS`.

Each claim holds the paper's text, the operational definition by which himo decides
it and the decision function that implements that definition (written just above
the claim), and says which runs it is decided on: H1-H4 on the ``hanoi`` run, R1 on
``fourrooms``, W1 and W2 on ``wormhole`` (W1 also gets the ``fourrooms`` run of the
same foresight), G1 on every main run. The words of the definitions (priority,
on-path, resolution, precedes, rank, leads, jumps ahead) and the runner are in
:mod:`himo.verdicts.judging`, the rule by which a priority precedes another in
:mod:`himo.measures.orders`; the JSON and Markdown reports and ``docs/CLAIMS.md``
in :mod:`himo.verdicts.report`.

Adding a claim is adding one ``Claim`` to :data:`CLAIMS` (and regenerating
``docs/CLAIMS.md``, which a test compares with the registry).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import xarray as xr

from himo.measures import states
from himo.measures.dataset import time_series
from himo.measures.orders import compare_pair_orders, earliest, latest, pair_resolution, precedes, tied
from himo.verdicts.judging import (
    LEAD_SUMMARY,
    BesideMethod,
    Claim,
    Decision,
    Discussion,
    EveryMainRun,
    MainRun,
    NotEvaluable,
    lead_cause,
    lead_off_path,
    lead_rule,
    lead_status,
    lead_summary,
    lead_verdict,
    on_path_priority_order,
    on_path_ranks,
    priorities,
    require_goal,
    require_role,
    require_start,
    run_key,
    time_grid,
)
from himo.verdicts.vocabulary import (
    NOT,
    NOT_CONVERGED,
    PARTLY,
    REPLICATED,
    SOME_OF_THE_STATES,
    TIED_OPTIMAL_ACTIONS,
    WITHIN_RESOLUTION,
    significant,
)

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


def _clusters(ds: xr.Dataset) -> np.ndarray:
    if "cluster" not in ds:
        raise NotEvaluable("the run has no clusters")
    return np.asarray(ds["cluster"].values)


def _final(ds: xr.Dataset, name: str) -> np.ndarray:
    """The last row of a measure ``name(iteration, state)``."""
    return np.asarray(ds[name].transpose("iteration", "state").values, dtype=float)[-1]


# ------------------------------------------------------------------------ H1
def decide_H1(ds: xr.Dataset) -> Decision:
    """H1 (Fig. 1B, 1D): the goal's PD velocity peaks before every other state's."""
    prio, labels, time = priorities(ds), states.labels(ds), time_grid(ds)
    goal = require_goal(ds)
    others = [s for s in range(prio.size) if s != goal and np.isfinite(prio[s])]
    on_path = set(states.optimal_path(ds).tolist())
    rivals = earliest(prio, others)  # every state at the earliest time, round-off aside
    has_priority = bool(np.isfinite(prio[goal]))
    first_all = has_priority and all(precedes(prio[goal], prio[s], time) for s in others)
    tied_all = has_priority and not first_all and not any(precedes(prio[s], prio[goal], time) for s in others)
    first_path = has_priority and all(precedes(prio[goal], prio[s], time) for s in others if s in on_path)
    verdict = REPLICATED if first_all else PARTLY if (tied_all or first_path) else NOT
    return verdict, {
        "goal": labels[goal],
        "goal_priority": float(prio[goal]),
        "resolution": (float(np.max(pair_resolution(time, prio[goal], prio[rivals])))
                       if has_priority and rivals else None),
        "goal_final_action": str(ds["final_action"].values[goal]) if "final_action" in ds else None,
        "earliest_other_state": " ".join(labels[s] for s in rivals) or None,
        "earliest_other_priority": float(prio[rivals[0]]) if rivals else None,
        "states_not_after_goal": [labels[s] for s in others if not precedes(prio[goal], prio[s], time)],
        "states_tied_with_goal": [labels[s] for s in others if has_priority and tied(prio[goal], prio[s], time)],
        "goal_first_among_all_states": bool(first_all),
        "goal_first_among_on_path_states": bool(first_path),
    }


def summarize_H1(numbers: dict) -> dict:
    return {"subject": numbers["goal"], "subject_priority": numbers["goal_priority"],
            "rival": numbers["earliest_other_state"], "rival_priority": numbers["earliest_other_priority"],
            "margin": _difference(numbers["earliest_other_priority"], numbers["goal_priority"]),
            "count": len(numbers["states_not_after_goal"]), "resolution": numbers["resolution"]}


def cause_H1(numbers: dict) -> str:
    if numbers["goal_first_among_on_path_states"]:
        return (f"{SOME_OF_THE_STATES}: the goal precedes every on-path state, not "
                f"{', '.join(numbers['states_not_after_goal'])}")
    return (f"{WITHIN_RESOLUTION}: the goal with {', '.join(numbers['states_tied_with_goal'])} "
            f"(resolution {significant(numbers['resolution'])})")


def _difference(a, b):
    return None if a is None or b is None else a - b


H1 = Claim(
    id="H1", figure="1", paper_env="hanoi",
    paper_text=("Of all actions in all states, HIMO first prioritizes STOP at the goal: the goal's PD "
                "velocity peaks before every other state's."),
    definition=(
        "States: all states with a priority. replicated: the goal (role 'goal') precedes every other state. partly replicated: no other state "
        "precedes the goal (it is tied for the earliest priority), or the goal precedes every other on-path "
        "state but not every state. not replicated: otherwise. The states tied with the goal and the goal's "
        "converged action are reported (the paper reads the goal's priority as that of STOP)."),
    decide=decide_H1,
    summarize=summarize_H1,
    summary=("subject: the goal; rival: the earliest other state (of all states; all of them, in state order, when "
             "several are at one time but for round-off); count: the states the goal does not precede; resolution: "
             "the goal's with the rival's (the widest)"),
    partly_because=cause_H1,
)


# ------------------------------------------------------------------------ H2
def bridge_states(ds: xr.Dataset) -> list[int]:
    """H2's bridge: the consecutive states where the run's optimal path leaves the
    start's cluster for the goal's (empty when it never crosses)."""
    cluster = _clusters(ds)
    goal, start, path = require_goal(ds), require_start(ds), states.optimal_path(ds).tolist()
    return [s for a, b in zip(path, path[1:])
            if cluster[a] == cluster[start] and cluster[b] == cluster[goal] for s in (a, b)]


def decide_H2(ds: xr.Dataset) -> Decision:
    """H2 (Fig. 1D): the second on-path priority goes to the red-blue bottleneck."""
    labels, goal = states.labels(ds), require_goal(ds)
    bridge = bridge_states(ds)
    if not bridge:
        return NOT, {"bridge": [], "note": "the optimal path never crosses from the start's to the goal's cluster",
                     "on_path_priority_order": on_path_priority_order(ds)}
    bottleneck = states.role(ds, "bottleneck")
    status = lead_status(ds, bridge, goal)
    return lead_verdict(status, every=False), {
        "goal": labels[goal],
        "bridge": [labels[s] for s in bridge],
        "bridge_are_bottlenecks": [bool(bottleneck[s]) for s in bridge],
        "bridge_status": status,
        "on_path_priority_order": on_path_priority_order(ds),
    }


H2 = Claim(
    id="H2", figure="1", paper_env="hanoi",
    paper_text=("Along the optimal path, the second priority goes to the bottleneck between the red "
                "(start) and blue (goal) clusters."),
    definition=(
        "States: on-path states. The bridge is the pair of consecutive path states where the path "
        "leaves the start's cluster for the goal's cluster (both bottlenecks, '+'); leading means "
        "taking the second priority after the goal. "
        + lead_rule("the bridge states", every=False, otherwise=", or the path never crosses")),
    decide=decide_H2,
    summarize=lambda numbers: (lead_summary(numbers["bridge_status"], numbers["on_path_priority_order"],
                                            numbers["goal"]) if "bridge_status" in numbers else {}),
    summary=LEAD_SUMMARY.format(subject="the bridge states"),
    partly_because=lambda numbers: lead_cause(numbers["bridge_status"]),
    claimed=lambda ds: [(s, "bridge") for s in bridge_states(ds)],
)


# ------------------------------------------------------------------------ H3
def decide_H3(ds: xr.Dataset) -> Decision:
    """H3 (Fig. 1D): the start's priority is the latest among on-path states (the start of
    the optimal path, :func:`himo.measures.states.start`, when paths start in several states)."""
    prio, labels = priorities(ds), states.labels(ds)
    start, time = require_start(ds), time_grid(ds)
    others = [s for s in states.optimal_path(ds).tolist() if s != start and np.isfinite(prio[s])]
    numbers = {"start": labels[start], "start_priority": float(prio[start]),
               "on_path_priority_order": on_path_priority_order(ds)}
    if not np.isfinite(prio[start]):
        return NOT, numbers
    last = all(precedes(prio[s], prio[start], time) for s in others)
    tied_for_last = not last and not any(precedes(prio[start], prio[s], time) for s in others)
    rivals = latest(prio, others)  # every on-path state at the latest time, round-off aside
    numbers["latest_other_on_path"] = float(prio[rivals[0]]) if rivals else None
    numbers["latest_other_on_path_state"] = " ".join(labels[s] for s in rivals) or None
    numbers["resolution"] = float(np.max(pair_resolution(time, prio[start], prio[rivals]))) if rivals else None
    numbers["start_rank_on_path"] = on_path_ranks(ds)[start]
    numbers["tied_with_start"] = [labels[s] for s in others if tied(prio[start], prio[s], time)]
    return (REPLICATED if last else PARTLY if tied_for_last else NOT), numbers


H3 = Claim(
    id="H3", figure="1", paper_env="hanoi",
    paper_text="Local policy optimization at the start state is deferred to last (among on-path states).",
    definition=(
        "States: on-path states. replicated: every other on-path state precedes the start. partly "
        "replicated: the start precedes no other on-path state (it is tied for the latest priority). not "
        "replicated: otherwise (or the start has no priority). The states tied with the start are reported."),
    decide=decide_H3,
    summarize=lambda numbers: {
        "subject": numbers["start"], "subject_priority": numbers["start_priority"],
        "subject_rank": numbers.get("start_rank_on_path"), "rival": numbers.get("latest_other_on_path_state"),
        "rival_priority": numbers.get("latest_other_on_path"),
        "margin": _difference(numbers["start_priority"], numbers.get("latest_other_on_path")),
        "resolution": numbers.get("resolution")},
    summary=("subject: the start; rival: the latest other on-path state (all of them, in path order, when several "
             "are at one time but for round-off); margin: the start's priority minus the rival's; resolution: the "
             "start's with the rival's (the widest)"),
    partly_because=lambda numbers: (f"{WITHIN_RESOLUTION}: the start with {', '.join(numbers['tied_with_start'])} "
                                    f"(resolution {significant(numbers['resolution'])})"),
)


# ------------------------------------------------------------------------ H4
def decide_H4(ds: xr.Dataset) -> Decision:
    """H4 (Fig. 1E): goal-cluster CD~ rises first for all, then falls for the non-goal states."""
    cluster, labels = _clusters(ds), states.labels(ds)
    goal = require_goal(ds)
    members = np.flatnonzero(cluster == cluster[goal])
    cdn = np.asarray(time_series(ds, "CD_norm").values, dtype=float)
    cd_final = _final(ds, "CD")
    on_path = states.on_path(ds)
    per_state, rises, falls = {}, {}, {}
    for s in members:
        series = cdn[:, s]
        up = np.flatnonzero(series >= RISE_TOL)
        down = np.flatnonzero(series <= -RISE_TOL)
        rises[s] = bool(up.size and (not down.size or up[0] < down[0]))
        falls[s] = bool(rises[s] and series[-1] <= series.max() - RISE_TOL)
        per_state[labels[s]] = {
            "max_CD_norm": float(series.max()), "final_CD_norm": float(series[-1]),
            "final_CD": float(cd_final[s]), "rises_first": rises[s], "then_falls": falls[s],
            "on_path": bool(on_path[s]),
        }
    non_goal = [s for s in members if s != goal]
    all_rise = all(rises[s] for s in members)
    all_fall = all(falls[s] for s in non_goal)
    some = any(falls[s] for s in non_goal)
    verdict = REPLICATED if (all_rise and all_fall) else PARTLY if some else NOT
    return verdict, {
        "goal_cluster": [labels[s] for s in members],
        "n_rise_first": int(sum(rises.values())),
        "n_non_goal_rise_then_fall": int(sum(falls[s] for s in non_goal)),
        "n_non_goal": len(non_goal),
        "n_non_goal_final_CD_negative": int(sum(cd_final[s] < 0 for s in non_goal)),
        "states": per_state,
    }


H4 = Claim(
    id="H4", figure="1", paper_env="hanoi",
    paper_text=("CD first rises for all states of the goal's cluster, then falls for its non-goal states: "
                "the goal cluster is first treated as one unit, then refined (non-monotonic CD)."),
    definition=(
        f"States: the goal's cluster (role cluster = the goal's). A state rises first when its CD~ "
        f"reaches +{RISE_TOL:g} before it reaches -{RISE_TOL:g}; it then falls when its final CD~ is at "
        f"least {RISE_TOL:g} below its maximum CD~ (non-monotonic: up, then down). replicated: every "
        "goal-cluster state rises first and every non-goal goal-cluster state then falls. partly "
        "replicated: at least one non-goal goal-cluster state rises first and then falls. not "
        "replicated: none does. The number of non-goal goal-cluster states that end below the prior "
        "(final CD < 0, 'avoided') is reported."),
    decide=decide_H4,
    summarize=lambda numbers: {
        "count": numbers["n_non_goal_rise_then_fall"], "of": numbers["n_non_goal"],
        "value": numbers["n_rise_first"] / len(numbers["goal_cluster"])},
    summary=("count of: the non-goal states of the goal's cluster whose CD~ rises first and then falls; value: "
             "the fraction of the goal's cluster whose CD~ rises first"),
    order_based=False,
    partly_because=lambda numbers: (f"{SOME_OF_THE_STATES}: {numbers['n_non_goal_rise_then_fall']} of "
                                    f"{numbers['n_non_goal']} non-goal states rise, then fall"),
)


# ------------------------------------------------------------------------ R1
def goal_room_entries(ds: xr.Dataset) -> list[int]:
    """The doorways (role 'bottleneck') that the state graph joins to a state of the
    goal's room (:func:`himo.measures.states.rooms`), in state order."""
    room = states.rooms(ds)
    if room is None:
        raise NotEvaluable(f"the run is not a grid world (it lacks one of {', '.join(states.GRID_VARIABLES)})")
    graph = states.edges(ds)
    if graph is None:
        raise NotEvaluable("the run has no state graph (edge_source, edge_target): rerun himo measures")
    door, goal = require_role(ds, "bottleneck"), require_goal(ds)
    if room[goal] < 0:
        raise NotEvaluable("the goal is a doorway: it has no room")
    in_goal_room = room == room[goal]
    entries = {int(a) for a, b in graph if door[a] and in_goal_room[b]}
    entries |= {int(b) for a, b in graph if door[b] and in_goal_room[a]}
    return sorted(entries)


def decide_R1(ds: xr.Dataset) -> Decision:
    """R1 (Fig. 2D): the doorways entering the goal room are prioritized."""
    labels, prio = states.labels(ds), priorities(ds)
    goal, path = require_goal(ds), states.optimal_path(ds).tolist()
    entries = goal_room_entries(ds)
    on_path = [s for s in entries if s in path]
    doors = np.flatnonzero(require_role(ds, "bottleneck"))
    numbers = {
        "goal": labels[goal],
        "entry_doorways": [labels[s] for s in entries],
        "entry_doorways_on_path": [labels[s] for s in on_path],
        "doorway_priorities": {labels[s]: float(prio[s]) for s in doors},
        "on_path_priority_order": on_path_priority_order(ds),
    }
    numbers["entry_doorways_off_path"] = {
        labels[s]: lead_off_path(ds, s, goal, excluded=on_path) for s in entries if s not in path}
    if not on_path:
        return NOT, numbers
    status = lead_status(ds, on_path, goal)
    numbers["entry_status"] = status
    verdict = lead_verdict(status, every=True)
    alternatives = {label: _lead_word(v) for label, v in numbers["entry_doorways_off_path"].items()}
    numbers["verdict_through_the_other_doorways"] = alternatives
    numbers["hinges_on_the_route"] = any(word != _lead_word(status[labels[s]]) for s in on_path
                                         for word in alternatives.values())
    return verdict, numbers


def _lead_word(status: dict) -> str:
    """How a claimed state stands: ``leads``, ``tied for the lead`` or ``behind``."""
    return "leads" if status["leads"] else "tied for the lead" if status["tied_for_lead"] else "behind"


R1 = Claim(
    id="R1", figure="2", paper_env="fourrooms",
    paper_text="HIMO prioritizes the bottleneck states that enter the goal room.",
    definition=(
        "The goal room is the connected set of open cells around the goal once the doorways (role "
        "'bottleneck') are removed; an entry doorway is a doorway that the state graph (edge_source, "
        "edge_target) joins to a state of the goal room. "
        "States: on-path states. "
        + lead_rule("the entry doorways on the path", every=True, otherwise=", or no entry doorway is on the path")
        + " The priorities of the other doorways are reported. An entry doorway off the path (the corner "
          "placement has two tied shortest routes, one through each entry doorway) is judged as if its route "
          "had been taken: does its priority lead the on-path states but the goal and the doorway it stands in "
          "for? hinges_on_the_route says whether that stands otherwise than the on-path doorway."),
    decide=decide_R1,
    summarize=lambda numbers: (lead_summary(numbers["entry_status"], numbers["on_path_priority_order"],
                                            numbers["goal"]) if "entry_status" in numbers else {}),
    summary=LEAD_SUMMARY.format(subject="the entry doorways"),
    partly_because=lambda numbers: lead_cause(numbers["entry_status"]),
    claimed=lambda ds: [(s, "entry doorway") for s in goal_room_entries(ds)],
)


# ------------------------------------------------------------------ W1 and W2
def _wormhole(ds: xr.Dataset) -> tuple[int, int]:
    entrance = states.only_state(require_role(ds, "wormhole_entrance"))
    exit_ = states.only_state(require_role(ds, "wormhole_exit"))
    if entrance is None or exit_ is None:
        raise NotEvaluable("the run has no single wormhole entrance and exit")
    return entrance, exit_


def _doorway_summary(ds: xr.Dataset) -> dict:
    labels, path = states.labels(ds), states.optimal_path(ds).tolist()
    cd = _final(ds, "CD")
    occupancy = np.asarray(ds["final_occupancy"].values, dtype=float)
    return {labels[s]: {"on_path": s in path, "final_CD": float(cd[s]), "final_occupancy": float(occupancy[s])}
            for s in np.flatnonzero(require_role(ds, "bottleneck"))}


def decide_W1(ds: xr.Dataset, reference: xr.Dataset | None = None) -> Decision:
    """W1 (Fig. S1): with the wormhole, the route through the doorways is avoided."""
    entrance, exit_ = _wormhole(ds)
    labels, path = states.labels(ds), states.optimal_path(ds).tolist()
    used = entrance in path and exit_ in path and path.index(exit_) == path.index(entrance) + 1
    doors = _doorway_summary(ds)
    numbers = {
        "optimal_path": [labels[s] for s in path],
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


W1 = Claim(
    id="W1", figure="S1", paper_env="wormhole",
    paper_text="With the wormhole, the now suboptimal route through the doorways is avoided.",
    definition=(
        "The route through the wormhole is used when the optimal path from the start under the "
        "converged policy contains the entrance followed by the exit (the WARP action). A doorway is "
        "avoided when its final CD is negative (fewer expected visits than under the prior policy). "
        "replicated: the wormhole is used, no doorway is on the path and every doorway is avoided. "
        "partly replicated: the wormhole is used but a doorway is on the path or not avoided. not "
        "replicated: the path does not use the wormhole. The four-room run of the same foresight is "
        "reported for comparison (its doorways on the path and their final CD)."),
    decide=decide_W1,
    runs=MainRun(reference="fourrooms"),
    summarize=lambda numbers: {
        "subject": " ".join(numbers["doorways_on_path"]),
        "count": sum(not v["on_path"] and v["final_CD"] < 0 for v in numbers["doorways"].values()),
        "of": len(numbers["doorways"]), "value": float(numbers["wormhole_used"])},
    summary=("subject: the doorways on the path; count of: the doorways avoided (off the path, final CD < 0); "
             "value: 1 when the path takes the wormhole, else 0"),
    order_based=False,
    partly_because=lambda numbers: (
        f"{SOME_OF_THE_STATES}: the path takes the wormhole, but "
        + ("passes the doorways " + ", ".join(numbers["doorways_on_path"]) if numbers["doorways_on_path"] else
           "the doorways " + ", ".join(k for k, v in numbers["doorways"].items() if v["final_CD"] >= 0)
           + " end at or above their prior occupancy")),
)


def decide_W2(ds: xr.Dataset) -> Decision:
    """W2 (Fig. S1): the wormhole's entrance and exit are prioritized."""
    entrance, exit_ = _wormhole(ds)
    goal = require_goal(ds)
    status = lead_status(ds, [entrance, exit_], goal)
    numbers = {"goal": states.labels(ds)[goal], "wormhole_status": status,
               "on_path_priority_order": on_path_priority_order(ds)}
    if not all(v["on_path"] for v in status.values()):
        return NOT, numbers
    return lead_verdict(status, every=True), numbers


W2 = Claim(
    id="W2", figure="S1", paper_env="wormhole",
    paper_text="HIMO prioritizes the wormhole's entrance and exit.",
    definition=(
        "States: on-path states; the claimed set is the wormhole entrance and exit (roles "
        "'wormhole_entrance', 'wormhole_exit'). "
        + lead_rule("the entrance and the exit", every=True, otherwise=", or one of them is not on the path")),
    decide=decide_W2,
    summarize=lambda numbers: lead_summary(numbers["wormhole_status"], numbers["on_path_priority_order"],
                                           numbers["goal"]),
    summary=LEAD_SUMMARY.format(subject="the wormhole's entrance and exit"),
    partly_because=lambda numbers: lead_cause(numbers["wormhole_status"]),
    claimed=lambda ds: list(zip(_wormhole(ds), ("wormhole entrance", "wormhole exit"))),
)


# ------------------------------------------------------------------------ W3
def decide_W3(ds: xr.Dataset) -> Decision:
    """W3 (Fig. S1, Discussion): the flow takes the shortcut from its earliest stages."""
    entrance, _ = _wormhole(ds)
    labels, prio, time = states.labels(ds), priorities(ds), time_grid(ds)
    doors = np.flatnonzero(require_role(ds, "bottleneck"))
    cdn = np.asarray(time_series(ds, "CD_norm").values, dtype=float)
    gains = [int(s) for s in doors if (cdn[:, s] >= RISE_TOL).any()]
    after = [int(s) for s in doors if np.isfinite(prio[s]) and np.isfinite(prio[entrance])
             and precedes(prio[entrance], prio[s], time)]
    numbers = {
        "entrance": labels[entrance], "entrance_priority": float(prio[entrance]),
        "doorways": {labels[s]: {"priority": float(prio[s]), "max_CD_norm": float(cdn[:, s].max()),
                                 "gains_mass": s in gains, "after_entrance": s in after} for s in doors},
        "n_doorways": len(doors),
        "n_doorways_gaining_mass": len(gains),
        "n_doorways_after_entrance": len(after),
    }
    never_gain, entrance_first = not gains, len(after) == len(doors)
    verdict = REPLICATED if never_gain and entrance_first else PARTLY if never_gain or entrance_first else NOT
    return verdict, numbers


def cause_W3(numbers: dict) -> str:
    doors = numbers["doorways"]
    if numbers["n_doorways_gaining_mass"]:
        return (f"{SOME_OF_THE_STATES}: the entrance comes first, but the route through "
                + ", ".join(k for k, v in doors.items() if v["gains_mass"]) + " gains mass on the way")
    return (f"{SOME_OF_THE_STATES}: no doorway gains mass, but "
            + ", ".join(k for k, v in doors.items() if not v["after_entrance"]) + " do not come after the entrance")


W3 = Claim(
    id="W3", figure="S1", paper_env="wormhole",
    paper_text=("HIMO restructures the policy flow in order to take advantage of shortcuts when available at the "
                "earliest stages of processing."),
    definition=(
        f"States: the doorways (role 'bottleneck') and the wormhole entrance. The route through a doorway gains "
        f"mass when the doorway's CD~ reaches +{RISE_TOL:g} at some stored time (its expected visits rise above "
        "the prior's: the flow sends the start that way, if only for a while); the shortcut comes first when the "
        "entrance's priority precedes every doorway's. replicated: no doorway's route gains mass and the "
        "shortcut comes first. partly replicated: one of the two. not replicated: neither. (Taking the "
        "shortcut at all, and avoiding the doorways at the end, is W1.)"),
    decide=decide_W3,
    summarize=lambda numbers: {
        "subject": numbers["entrance"], "subject_priority": numbers["entrance_priority"],
        "count": numbers["n_doorways_gaining_mass"], "of": numbers["n_doorways"],
        "value": numbers["n_doorways_after_entrance"] / max(numbers["n_doorways"], 1)},
    summary=("subject: the wormhole entrance; count of: the doorways whose route gains mass (CD~ rises), of all "
             "doorways; value: the fraction of the doorways whose priority comes after the entrance's"),
    partly_because=cause_W3,
)


# ------------------------------------------------------------------------ N1
#: The state-averaged natural policy gradient that N1 sets HIMO beside (himo.solver.steps).
STATE_AVERAGED_NPG = "kakade"


def _orders_compared(ds: xr.Dataset, other: xr.Dataset) -> dict:
    """HIMO's on-path order against the state-averaged NPG's on HIMO's optimal path:
    the pairs each run orders (by the tie rule on its own time grid), and how many of
    the pairs both order they order alike or the other way round; the NPG's priorities
    on HIMO's clock (times ``1 / (1 - lambda)``, docs/MATH.md identity 11) against
    HIMO's."""
    labels = states.labels(ds)
    mine, theirs = priorities(ds), priorities(other)
    path = [int(s) for s in states.optimal_path(ds) if np.isfinite(mine[s]) and np.isfinite(theirs[s])]
    pairs = compare_pair_orders(np.array(path, dtype=int), mine, time_grid(ds), theirs, time_grid(other))
    lam = float(ds.attrs.get("foresight", math.nan))
    rescaled = theirs[path] / (1 - lam)
    relative = np.abs(rescaled - mine[path]) / np.maximum(np.abs(mine[path]), 1e-300)
    return {"run": run_key(ds), "npg_run": run_key(other), "n_on_path": len(path),
            "pairs_alike": pairs.alike, "pairs_reversed": pairs.reversed, "pairs_ordered_by_one_only": pairs.one_only,
            "reversed_pairs": [f"{labels[a]}-{labels[b]}" for a, b in pairs.reversed_pairs],
            "median_relative_priority_difference": float(np.median(relative)) if path else None}


def decide_N1(pairs: Sequence[tuple[xr.Dataset, xr.Dataset]]) -> Decision:
    """N1 (Discussion): HIMO's dynamics differ from a state-averaged natural policy gradient's."""
    if not pairs:
        raise NotEvaluable(f"no HIMO run has a {STATE_AVERAGED_NPG} run beside it")
    compared = {run_key(ds): _orders_compared(ds, other) for ds, other in pairs}
    differ = [key for key, c in compared.items() if c["pairs_reversed"]]
    verdict = REPLICATED if len(differ) == len(compared) else PARTLY if differ else NOT
    return verdict, {"runs": compared}


N1 = Claim(
    id="N1", figure="Discussion", paper_env="*",
    paper_text=("Natural policy gradient methods that average distinct natural gradients localized at each state, "
                "weighted by the state distribution, do not relate the components of the policy gradient across "
                "states as HIMO does, and are agnostic to the hierarchical structure of the state-space."),
    definition=(
        f"Each HIMO run beside Kakade's natural policy gradient (method '{STATE_AVERAGED_NPG}': softmax policy, "
        "Fisher information averaged over the discounted state distribution) run with the same choices. "
        "States: HIMO's on-path states with a priority in both runs. A pair of them is ordered by a run when "
        "one precedes the other by the tie rule on that run's time grid. The orders differ on a run when some "
        "pair both runs order is ordered the other way round. replicated: they differ on every paper "
        "environment's main run. partly replicated: on some. not replicated: on none (wherever both runs "
        "order a pair, they order it alike). The NPG's priorities on HIMO's clock (times 1/(1 - lambda): "
        "docs/MATH.md, identity 11) are compared with HIMO's."),
    decide=decide_N1,
    runs=BesideMethod(STATE_AVERAGED_NPG),
    summarize=lambda numbers: {
        "count": sum(r["pairs_reversed"] for r in numbers["runs"].values()),
        "of": sum(r["pairs_alike"] + r["pairs_reversed"] for r in numbers["runs"].values()),
        "value": max(r["median_relative_priority_difference"] or 0.0 for r in numbers["runs"].values())},
    summary=("count of: the on-path pairs the two runs order the other way round, of the pairs both order (over "
             "the runs); value: the largest median relative difference of the NPG's rescaled priorities from "
             "HIMO's"),
    partly_because=lambda numbers: (f"{SOME_OF_THE_STATES}: the orders differ on "
                                    + ", ".join(k for k, r in numbers["runs"].items() if r["pairs_reversed"])),
    order_based=False,
)


# ------------------------------------------------------------------------ G1
def _g1_run(ds: xr.Dataset) -> dict:
    final = float(ds["objective"].values[-1])
    optimum = float(ds.attrs.get("optimal_objective", math.nan))
    occupancy = np.asarray(ds["final_occupancy"].values, dtype=float)
    pmax = np.asarray(ds["final_max_probability"].values, dtype=float)
    reached = occupancy > REACHED_MIN
    worst = int(np.flatnonzero(reached)[np.argmin(pmax[reached])]) if reached.any() else None
    gap = abs(final - optimum) / max(abs(optimum), 1e-300)
    return {
        "final_objective": final, "optimal_objective": optimum, "relative_gap": gap,
        "optimal": bool(gap <= VALUE_RTOL),
        "deterministic_on_reached_states": bool(reached.any() and pmax[reached].min() >= DETERMINISTIC_MIN),
        "n_reached_not_deterministic": int(np.sum(reached & (pmax < DETERMINISTIC_MIN))),
        "n_not_deterministic_tied": (int(np.sum(reached & (pmax < DETERMINISTIC_MIN)
                                                & (np.asarray(ds["n_optimal_actions"].values) > 1)))
                                     if "n_optimal_actions" in ds else None),
        "least_deterministic_reached_state": None if worst is None else states.labels(ds)[worst],
        "least_deterministic_probability": None if worst is None else float(pmax[worst]),
        "stop_reason": str(ds.attrs.get("stop_reason", "")),
        "n_iterations": int(ds.attrs.get("n_iterations", -1)),
    }


def cause_G1(runs: dict) -> str:
    """Why every run is optimal but G1 is partly: reached states whose optimal actions
    tie (the flow keeps them equally likely), other undecided states, runs stopped
    before the convergence test held."""
    causes = []
    undecided = {key: r for key, r in runs.items() if not r["deterministic_on_reached_states"]}
    tied = {key: r for key, r in undecided.items()
            if r.get("n_not_deterministic_tied") == r["n_reached_not_deterministic"]}
    if tied:
        causes.append(f"{TIED_OPTIMAL_ACTIONS}: " + ", ".join(
            f"{key} ({r['n_reached_not_deterministic']} reached states)" for key, r in tied.items()))
    if set(undecided) - set(tied):
        causes.append(f"{SOME_OF_THE_STATES}: not deterministic on every reached state: " + ", ".join(
            f"{key} ({r['n_reached_not_deterministic']}, {r.get('n_not_deterministic_tied')} of them tied)"
            for key, r in undecided.items() if key not in tied))
    stopped = {key: r["stop_reason"] for key, r in runs.items() if r["stop_reason"] != "converged"}
    if stopped:
        causes.append(f"{NOT_CONVERGED}: " + ", ".join(f"{key} ({reason})" for key, reason in stopped.items()))
    return "; ".join(causes)


def decide_G1(runs: Sequence[xr.Dataset]) -> Decision:
    """G1 (footnote 1): every run converges to the optimal deterministic policy."""
    per_run = {run_key(ds): _g1_run(ds) for ds in runs}
    if not per_run:
        raise NotEvaluable("no runs")
    if not all(r["optimal"] for r in per_run.values()):
        verdict = NOT
    elif all(r["deterministic_on_reached_states"] and r["stop_reason"] == "converged" for r in per_run.values()):
        verdict = REPLICATED
    else:
        verdict = PARTLY
    return verdict, {"runs": per_run}


def fixed_dependent_facts(tables, claim: str) -> dict | None:
    """The runs with a fixed dependent action (the atlas group ``dependent rule``): how
    each stopped, the claim's verdict on it, and whether they all stalled."""
    fixed = [row for row in tables.rows(claim) if row["group"] == "dependent rule"]
    if not fixed:
        return None
    return {"runs": [{"env_key": row["env_key"], "stop_reason": row["stop_reason"], "verdict": row["verdict"]}
                     for row in fixed],
            "stalled": all(row["stop_reason"] == "stalled" for row in fixed)}


def ties_facts(tables, claim: str) -> dict | None:
    """The claim's verdict, how many main runs reach the optimum, and for each main run
    that is not deterministic on its reached states, how many are not and the least
    deterministic one (its probability)."""
    record = tables.claims.get(claim)
    if not record:
        return None
    runs = record["numbers"].get("runs", {})
    return {"verdict": record["verdict"], "n_runs": len(runs),
            "n_optimal": sum(bool(numbers.get("optimal")) for numbers in runs.values()),
            "ties": [{"env": env, "n_not_deterministic": numbers.get("n_reached_not_deterministic"),
                      "state": numbers.get("least_deterministic_reached_state"),
                      "probability": numbers.get("least_deterministic_probability")}
                     for env, numbers in runs.items() if not numbers.get("deterministic_on_reached_states", True)]}


G1 = Claim(
    id="G1", figure="all", paper_env="*",
    paper_text="HIMO converges to the optimal deterministic policy (footnote 1).",
    definition=(
        f"Every main run (each environment at its default settings; the sweep variants are "
        f"judged one by one under robustness): optimal when |final R(A) - R*| <= {VALUE_RTOL:g} |R*|, R* = "
        f"V*(s0) (p0 . V* when paths start in several states; V* from value iteration); deterministic when every reached state (final D_0s > {REACHED_MIN:g}) "
        f"has an action of probability >= {DETERMINISTIC_MIN:g}. replicated: every run is optimal, "
        "deterministic and stopped by the convergence test. partly replicated: every run is optimal, but "
        "some run is not deterministic on a reached state or did not meet the convergence test. not "
        "replicated: some run is not optimal."),
    decide=decide_G1,
    runs=EveryMainRun(),
    summarize=lambda numbers: {
        "value": max(r["relative_gap"] for r in numbers["runs"].values()),
        "count": sum(r["n_reached_not_deterministic"] for r in numbers["runs"].values()),
        "of": len(numbers["runs"])},
    summary=("value: the relative gap |R - V*| / |V*| (the largest of the runs'); count: the reached states whose "
             "policy is not deterministic (of all the runs); of: the number of runs"),
    order_based=False,
    partly_because=lambda numbers: cause_G1(numbers["runs"]),
    discussion=(Discussion("discussion-fixed-dependent.j2", fixed_dependent_facts),
                Discussion("discussion-ties.j2", ties_facts)),
)

#: The paper's claims, in the order of the paper.
CLAIMS: tuple[Claim, ...] = (H1, H2, H3, H4, R1, W1, W2, W3, G1, N1)
