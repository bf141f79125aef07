"""How a claim is judged: the claim object, the words of its definition, the runs it is decided on.

A claim (:class:`Claim`) is one object: the paper's text, the operational definition
by which himo decides it, the decision function that applies that definition to
measures datasets, and the rule that picks those datasets among the runs
(:class:`MainRun` or :class:`EveryMainRun`). :func:`evaluate_claims` judges a
registry of claims (the paper's is :data:`himo.analysis.claims.CLAIMS`) on a set of
runs with no case by claim: adding a claim is adding one object to the registry.

A decision function takes the datasets its selection hands it and returns
``(verdict, numbers)``: the verdict one of :data:`VERDICTS`, the numbers a
JSON-ready dict of what the verdict rests on. It raises :class:`NotEvaluable` when a
run lacks what the claim needs (a role, a cluster, a grid); the claim is then
``"not evaluated"``, with the reason.

The words of the definitions (:data:`VOCABULARY`) are implemented here once:
:func:`precedes`, :func:`tied`, :func:`lead_status` and :func:`lead_verdict`, and
:func:`lead_rule` writes the verdict rule of a claim that a set of states is
prioritized in those words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

import numpy as np
import xarray as xr

from himo.analysis import states

REPLICATED = "replicated"
PARTLY = "partly replicated"
NOT = "not replicated"
NOT_EVALUATED = "not evaluated"
#: Every verdict, from the best to none.
VERDICTS = (REPLICATED, PARTLY, NOT, NOT_EVALUATED)

#: Priorities closer than this (planning time) are tied.
TIE_TOL = 1e-6

#: The words the operational definitions use, each defined once (docs/CLAIMS.md).
VOCABULARY = {
    "priority": (
        "the planning time at which a state's PD velocity dPD/dt peaks (`priority` in the measures, "
        "refined between stored times by a parabola; docs/MATH.md, section 7); an earlier time is a "
        "higher priority. A state whose PD never moves (a single-action state) has none."),
    "on-path states": (
        "the states of the optimal path from the start under the converged policy "
        "(`optimal_path_position`) that have a priority."),
    "precedes": (
        f"a state a precedes b when priority(a) < priority(b) - {TIE_TOL:g}; priorities within "
        f"{TIE_TOL:g} of each other are tied (neither precedes)."),
    "leads": (
        "a state of a claimed set leads when it precedes every on-path state that is neither the goal "
        "nor in the claimed set: after the goal, the next priority is the claimed set's."),
    "tied for the lead": (
        "a state of a claimed set is tied for the lead when it does not lead but no on-path state, "
        "other than the goal and the claimed set, precedes it."),
    "jumps ahead": (
        "a state of a claimed set jumps ahead when it precedes at least one on-path state, other than "
        "the goal and the claimed set, that lies after it on the path (between it and the goal). Value "
        "reaches a state from the goal backwards, so a pure distance-to-goal order never jumps ahead; "
        "jumping ahead is the weakest form of \"prioritizing\" a state."),
}

Decision = tuple[str, dict]


class NotEvaluable(Exception):
    """The run lacks what a claim needs (a role, a cluster, a grid)."""


# ------------------------------------------------------------------- the claim
@dataclass(frozen=True)
class Selection:
    """The runs a claim is decided on, as its selection rule found them.

    ``main`` holds the arguments of the decision function for the claim's verdict
    (None when there is no run to decide on, ``missing`` saying why); ``names`` how
    the record names those runs (``run`` or ``runs``, and ``choices``, their
    settings); ``variants`` maps each run judged alone under robustness to its
    settings and the arguments of the decision function.
    """

    main: tuple | None
    names: dict
    variants: dict[str, tuple[dict, tuple]] = field(default_factory=dict)
    missing: str = ""


class RunSelection(Protocol):
    """How a claim picks its runs: called with the claim and every run, it returns
    the :class:`Selection`; ``describe`` says the rule in words (docs/CLAIMS.md)."""

    def __call__(self, claim: "Claim", runs: Sequence[xr.Dataset]) -> Selection: ...

    def describe(self, claim: "Claim") -> str: ...


@dataclass(frozen=True)
class MainRun:
    """The claim's paper environment, decided on its main run.

    The main run is the run whose ``env_key`` is the claim's ``paper_env`` (else the
    first ``env_key`` of that ``paper_env`` in sorted order); every run of that
    ``paper_env``, the main one included, is also decided alone under robustness.
    With ``reference`` (another paper environment), the decision function also gets
    the run of that environment at the same foresight (None if there is none).
    """

    reference: str | None = None

    def __call__(self, claim: "Claim", runs: Sequence[xr.Dataset]) -> Selection:
        candidates = runs_of(runs, claim.paper_env)
        if not candidates:
            return Selection(None, {"run": None, "choices": {}}, missing=f"no run with paper_env {claim.paper_env!r}")
        references = runs_of(runs, self.reference) if self.reference else []

        def arguments(ds: xr.Dataset) -> tuple:
            if self.reference is None:
                return (ds,)
            same = [r for r in references if r.attrs.get("foresight") == ds.attrs.get("foresight")]
            return (ds, same[0] if same else None)

        main = candidates[0]
        return Selection(
            main=arguments(main),
            names={"run": run_key(main), "choices": settings(main)},
            variants={run_key(ds): (settings(ds), arguments(ds)) for ds in candidates},
        )

    def describe(self, claim: "Claim") -> str:
        text = (f"the main run of paper_env `{claim.paper_env}` (the run whose env_key is `{claim.paper_env}`, "
                f"else the first env_key in sorted order); every run of paper_env `{claim.paper_env}` is also "
                "judged alone under robustness")
        if self.reference:
            text += f"; the `{self.reference}` run of the same foresight is handed over for comparison"
        return text


@dataclass(frozen=True)
class EveryMainRun:
    """Every main run at once (each environment at its default settings, not a sweep
    variant); every run, the variants included, is also decided alone under
    robustness. The decision function gets the list of runs."""

    def __call__(self, claim: "Claim", runs: Sequence[xr.Dataset]) -> Selection:
        main_runs = [ds for ds in runs if is_main_run(ds)]
        return Selection(
            main=(main_runs,),
            names={"runs": sorted(run_key(ds) for ds in main_runs),
                   "choices": {run_key(ds): settings(ds) for ds in runs}},
            variants={run_key(ds): (settings(ds), ([ds],)) for ds in runs},
        )

    def describe(self, claim: "Claim") -> str:
        return ("every main run together (each environment at its default settings: a run whose env_key is its "
                "paper_env, or a user's run); every run, sweep variants included, is also judged alone under "
                "robustness")


@dataclass(frozen=True)
class Claim:
    """One claim of the paper: what it says, how himo decides it, on which runs.

    ``figure`` is the paper's figure (``"all"`` for a claim about every run),
    ``paper_env`` the paper environment it is about (``"*"`` for all),
    ``paper_text`` what the paper says, ``definition`` the operational definition
    that ``decide`` implements, and ``runs`` the rule that selects the runs
    ``decide`` gets (one dataset for :class:`MainRun`, a list for
    :class:`EveryMainRun`).
    """

    id: str
    figure: str
    paper_env: str
    paper_text: str
    definition: str
    decide: Callable[..., Decision]
    runs: RunSelection = MainRun()


def judge(claim: Claim, runs: Sequence[xr.Dataset]) -> dict:
    """The record of one claim on ``runs``: its texts, verdict, numbers, runs and robustness."""
    chosen = claim.runs(claim, runs)
    if chosen.main is None:
        verdict, numbers = NOT_EVALUATED, {"reason": chosen.missing}
    else:
        verdict, numbers = _decide(claim, chosen.main)
    return {
        "id": claim.id, "figure": claim.figure, "paper_env": claim.paper_env,
        "statement": claim.paper_text, "definition": claim.definition,
        "verdict": verdict, "numbers": numbers, **chosen.names,
        "robustness": {key: {**choices, "verdict": _decide(claim, arguments)[0]}
                       for key, (choices, arguments) in chosen.variants.items()},
    }


def evaluate_claims(claims: Sequence[Claim], runs: Sequence[xr.Dataset]) -> dict[str, dict]:
    """Judge every claim of the registry ``claims`` on ``runs`` (measures datasets); one record per id."""
    ids = [claim.id for claim in claims]
    if len(set(ids)) != len(ids):
        raise ValueError(f"claim ids must be unique, got {ids}")
    return {claim.id: judge(claim, runs) for claim in claims}


def _decide(claim: Claim, arguments: tuple) -> Decision:
    try:
        verdict, numbers = claim.decide(*arguments)
    except NotEvaluable as err:
        return NOT_EVALUATED, {"reason": str(err)}
    if verdict not in VERDICTS:
        raise ValueError(f"claim {claim.id}: the verdict {verdict!r} is not one of {VERDICTS}")
    return verdict, numbers


# ---------------------------------------------------------------------- the runs
def run_key(ds: xr.Dataset) -> str:
    """The run's name: its ``env_key`` (else its environment)."""
    return str(ds.attrs.get("env_key", "")) or str(ds.attrs.get("environment", "run"))


def settings(ds: xr.Dataset) -> dict:
    """The open choices a verdict rests on, from the run's attributes."""
    a = ds.attrs
    return {
        "env_key": run_key(ds),
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


def is_main_run(ds: xr.Dataset) -> bool:
    """A run at its environment's default settings: not a variant of a paper environment."""
    paper_env = str(ds.attrs.get("paper_env", ""))
    return not paper_env or run_key(ds) == paper_env


def runs_of(runs: Sequence[xr.Dataset], paper_env: str) -> list[xr.Dataset]:
    """The runs of a paper environment, the main run first, the others by ``env_key``."""
    found = [ds for ds in runs if str(ds.attrs.get("paper_env", "")) == paper_env]
    main = [ds for ds in found if run_key(ds) == paper_env]
    rest = sorted((ds for ds in found if run_key(ds) != paper_env), key=run_key)
    return main + rest


# ------------------------------------------------------- what a claim requires
def require_role(ds: xr.Dataset, name: str) -> np.ndarray:
    """The role's mask (:func:`himo.analysis.states.role`); NotEvaluable if the run has no such role."""
    if not states.has_role(ds, name):
        raise NotEvaluable(f"the run has no role {name!r}")
    return states.role(ds, name)


def require_goal(ds: xr.Dataset) -> int:
    """The goal state; NotEvaluable unless exactly one state has the role ``goal``."""
    goal = states.goal(ds)
    if goal is None:
        raise NotEvaluable(f"the run has {int(require_role(ds, 'goal').sum())} goal states, not one")
    return goal


def require_start(ds: xr.Dataset) -> int:
    """The start state; NotEvaluable if the run does not name it."""
    start = states.start(ds)
    if start is None:
        raise NotEvaluable("the run does not name its start state")
    return start


# --------------------------------------------------------------- the vocabulary
def priorities(ds: xr.Dataset) -> np.ndarray:
    """Each state's priority (NaN: none)."""
    return np.asarray(ds["priority"].values, dtype=float)


def precedes(a: float, b: float) -> bool:
    """Priority ``a`` precedes ``b``: earlier by more than TIE_TOL."""
    return bool(a < b - TIE_TOL)


def tied(a: float, b: float) -> bool:
    """Priorities ``a`` and ``b`` within TIE_TOL of each other."""
    return bool(abs(a - b) <= TIE_TOL)


def on_path_priority_order(ds: xr.Dataset) -> list[list]:
    """On-path states in priority order (path order on ties): ``[[label, priority, path position], ...]``."""
    labels, prio = states.labels(ds), priorities(ds)
    path = [int(s) for s in states.optimal_path(ds)]
    position = {s: i for i, s in enumerate(path)}
    ranked = sorted((s for s in path if np.isfinite(prio[s])), key=lambda s: (prio[s], position[s]))
    return [[labels[s], float(prio[s]), position[s]] for s in ranked]


def lead_status(ds: xr.Dataset, claimed: Sequence[int], goal: int) -> dict:
    """For each claimed state, by label: on the path? its priority; does it lead, tie
    for the lead, jump ahead (of which states)?"""
    prio, labels = priorities(ds), states.labels(ds)
    path = [int(s) for s in states.optimal_path(ds)]
    position = {s: i for i, s in enumerate(path)}
    others = [s for s in path if s != goal and s not in claimed and np.isfinite(prio[s])]
    out = {}
    for c in claimed:
        if c not in position or not np.isfinite(prio[c]):
            out[labels[c]] = {"on_path": c in position, "priority": float(prio[c]), "leads": False,
                              "tied_for_lead": False, "jumps_ahead_of": []}
            continue
        leads = all(precedes(prio[c], prio[o]) for o in others)
        tied_for_lead = not leads and all(precedes(prio[c], prio[o]) or tied(prio[c], prio[o]) for o in others)
        downstream = [o for o in others if position[o] > position[c] and precedes(prio[c], prio[o])]
        out[labels[c]] = {
            "on_path": True, "priority": float(prio[c]), "path_position": position[c],
            "rank_on_path": 1 + sum(precedes(prio[o], prio[c]) for o in path if np.isfinite(prio[o])),
            "leads": leads, "tied_for_lead": tied_for_lead,
            "jumps_ahead_of": [labels[o] for o in downstream],
        }
    return out


def lead_verdict(status: dict, every: bool) -> str:
    """From :func:`lead_status`: replicated when every claimed state leads (with
    ``every=False``: one of them does); partly when one leads, is tied for the lead
    or jumps ahead; not replicated otherwise. :func:`lead_rule` says it in words."""
    leads = [v["leads"] for v in status.values()]
    if all(leads) if every else any(leads):
        return REPLICATED
    if any(v["leads"] or v["tied_for_lead"] or v["jumps_ahead_of"] for v in status.values()):
        return PARTLY
    return NOT


def lead_rule(claimed: str, every: bool, otherwise: str = "") -> str:
    """The rule of :func:`lead_verdict` in words, for the claimed set ``claimed``
    (e.g. ``"the bridge states"``); ``otherwise`` adds a case that is not replicated."""
    if every:
        replicated = f"each of {claimed} leads"
        partly = "one of them leads, is tied for the lead or jumps ahead"
    else:
        replicated = f"one of {claimed} leads"
        partly = "one of them is tied for the lead or jumps ahead"
    return f"replicated: {replicated}. partly replicated: {partly}. not replicated: otherwise{otherwise}."
