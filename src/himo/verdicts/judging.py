"""How a claim is judged: the claim object, the words of its definition, the runs it is decided on.

A claim (:class:`Claim`) is one object: the paper's text, the operational definition
by which himo decides it, the decision function that applies that definition to
measures datasets, and the rule that picks those datasets among the runs
(:class:`MainRun` or :class:`EveryMainRun`). :func:`evaluate_claims` judges a
registry of claims (the paper's is :data:`himo.verdicts.claims.CLAIMS`) on a set of
runs with no case by claim: adding a claim is adding one object to the registry.

A decision function takes the datasets its selection hands it and returns
``(verdict, numbers)``: the verdict one of :data:`VERDICTS`, the numbers a
JSON-ready dict of what the verdict rests on. It raises :class:`NotEvaluable` when a
run lacks what the claim needs (a role, a cluster, a grid); the claim is then
``"not evaluated"``, with the reason.

The words of the definitions (:data:`VOCABULARY`) are implemented here once, on
the one rule by which a priority precedes another (:func:`himo.measures.orders.precedes`:
earlier by at least the resolution of the run's time grid between the two, closer
priorities tied): the ranks (:func:`on_path_ranks`), :func:`lead_status` and
:func:`lead_verdict`; :func:`lead_rule` writes the verdict rule of a claim that a set
of states is prioritized in those words.

**Priority definitions.** The paper's priority is the time at which a state's PD
velocity peaks; how much a verdict rests on that choice is measured by judging
every claim on every run under each definition of :data:`PRIORITY_DEFINITIONS`
(the decision functions read ``priority``; :func:`with_priority` hands them a view
of the run in which ``priority`` is the definition's variable). The claim's
verdict is the paper's definition's (:data:`PAPER_PRIORITY`) on its main run.

**Choices.** Each run's choices (:data:`CHOICES`: method, foresight, step, ...)
are read from its attributes (:func:`choices`), and each run is described by the
choices in which it differs from the main run of its paper environment
(:func:`varied_choices`): what the robustness atlas groups by.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol, Sequence

import numpy as np
import xarray as xr

from himo.measures import orders, states
from himo.tolerances import same_time
from himo.verdicts.vocabulary import (  # the verdicts, their causes and the priority definitions, defined there
    JUMPS_AHEAD,
    NOT,
    NOT_EVALUATED,
    PAPER_PRIORITY,
    PARTLY,
    PRIORITY_DEFINITIONS,
    REPLICATED,
    SOME_OF_THE_STATES,
    VERDICTS,
    WITHIN_RESOLUTION,
    significant,
)

#: The words the operational definitions use, each defined once (docs/CLAIMS.md).
VOCABULARY = {
    "priority": (
        "the planning time at which a state's PD velocity dPD/dt peaks (`priority` in the measures, "
        "refined between stored times by a parabola; docs/MATH.md, section 7); an earlier time is a "
        "higher priority. A state whose PD never moves (a single-action state) has none. Every claim is "
        "also judged under an alternative definition, the time at which PD~ first reaches 1/2 "
        "(`priority_half`), to measure how much its verdict rests on the paper's; the verdicts are "
        "the paper's definition's."),
    "on-path states": (
        "the states of the optimal path from the start under the converged policy "
        "(`optimal_path_position`) that have a priority. When paths start in several states, the "
        "optimal path and \"the start\" are those of the most probable start state (the first in state "
        "order on ties)."),
    "resolution": (
        "the resolution at which two priorities are compared: the widest spacing of the run's stored planning "
        "times (`time`) between them, every grid interval that meets the span from the earlier to the later "
        "counted (a priority on a grid point counts the intervals on both sides); the step size when no step "
        "was halved and nothing thinned (`himo.measures.orders.pair_resolution`). A priority is located on "
        "the grid only to within a spacing (the peak of dPD/dt by the parabola through the stored maximum "
        "and its neighbours, the PD~ = 1/2 time by linear interpolation inside the interval of the "
        "crossing), so both priority definitions are compared at it. It reads the two priorities and the "
        "grid only: the same whether the states are on the optimal path or not."),
    "precedes": (
        "a state a precedes b when priority(b) - priority(a) is at least the resolution between them; two "
        "priorities closer than that are tied (neither precedes). Two priorities equal but for round-off "
        "(within the fraction `himo.tolerances.PRIORITY_RTOL` of the larger: symmetric states) are one time, "
        "never ordered, whatever the grid; where a claim names one state among priorities (its rival), it names "
        "every state at that time. Ties do not chain: a may be tied with b and b with c while a precedes c "
        "(`himo.measures.orders.precedes`)."),
    "rank": (
        "an on-path state's rank is 1 + the number of on-path states that precede it (1 = nothing precedes "
        "it; `priority_rank` + 1 in the measures, `rank` in results/priority_ranks.csv). States of one rank "
        "are tied; a state may also be tied with one of a neighbouring rank (results/priority_ranks.csv lists "
        "them in `tied_with`)."),
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
    choices); ``variants`` maps the key of each run judged alone under robustness
    to that run and the arguments of the decision function.
    """

    main: tuple | None
    names: dict
    variants: dict[str, tuple[xr.Dataset, tuple]] = field(default_factory=dict)
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
    the run of that environment made with the same choices (:func:`reference_run`;
    None if there is none).
    """

    reference: str | None = None

    def __call__(self, claim: "Claim", runs: Sequence[xr.Dataset]) -> Selection:
        candidates = runs_of(runs, claim.paper_env)
        if not candidates:
            return Selection(None, {"run": None, "choices": {}}, missing=f"no run with paper_env {claim.paper_env!r}")
        references = runs_of(runs, self.reference) if self.reference else []

        def arguments(ds: xr.Dataset) -> tuple:
            return (ds,) if self.reference is None else (ds, reference_run(ds, references))

        main = candidates[0]
        return Selection(
            main=arguments(main),
            names={"run": run_key(main), "choices": choices(main)},
            variants={run_key(ds): (ds, arguments(ds)) for ds in candidates},
        )

    def describe(self, claim: "Claim") -> str:
        text = (f"the main run of paper_env `{claim.paper_env}` (the run whose env_key is `{claim.paper_env}`, "
                f"else the first env_key in sorted order); every run of paper_env `{claim.paper_env}` is also "
                "judged alone under robustness")
        if self.reference:
            text += (f"; the `{self.reference}` run made with the same choices (the same placement of start and "
                     "goal if there is one, else any) is handed over for comparison")
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
                   "choices": {run_key(ds): choices(ds) for ds in main_runs}},
            variants={run_key(ds): (ds, ([ds],)) for ds in runs},
        )

    def describe(self, claim: "Claim") -> str:
        return ("every main run together (each environment at its default settings: a run whose env_key is its "
                "paper_env, or a user's run); every run, sweep variants included, is also judged alone under "
                "robustness")


@dataclass(frozen=True)
class BesideMethod:
    """Each HIMO run of a paper environment beside the run of another ``method`` made
    with the same choices (:func:`reference_run` among that method's runs, the method
    aside). The main decision gets ``[(main run, its counterpart), ...]``, one pair per
    paper environment whose main run has one; every HIMO run with a counterpart is
    also decided alone under robustness, as a list of one pair."""

    method: str

    def pairs(self, runs: Sequence[xr.Dataset]) -> list[tuple[xr.Dataset, xr.Dataset]]:
        others = [ds for ds in runs if str(ds.attrs.get("method", "")) == self.method]
        found = []
        for ds in runs:
            paper_env = str(ds.attrs.get("paper_env", ""))
            if not paper_env or str(ds.attrs.get("method", "")) not in HIMO_METHODS:
                continue
            match = reference_run(ds, [o for o in others if str(o.attrs.get("paper_env", "")) == paper_env],
                                  ignore=("method",), any_placement=False)  # the same MDP, start and goal
            if match is not None:
                found.append((ds, match))
        return found

    def __call__(self, claim: "Claim", runs: Sequence[xr.Dataset]) -> Selection:
        pairs = self.pairs(runs)
        main = [(ds, other) for ds, other in pairs if is_main_run(ds)]
        if not main:
            return Selection(None, {"runs": [], "choices": {}},
                             missing=f"no main run of a paper environment has a {self.method} run beside it")
        return Selection(
            main=(main,),
            names={"runs": sorted(run_key(ds) for ds, _ in main),  # as EveryMainRun: whatever the input order
                   "choices": {run_key(ds): choices(ds) for ds, _ in main}},
            variants={run_key(ds): (ds, ([(ds, other)],)) for ds, other in pairs},
        )

    def describe(self, claim: "Claim") -> str:
        return (f"every paper environment's main run beside its `{self.method}` run at the same choices (the method "
                f"aside); every HIMO run with a `{self.method}` run beside it is also judged alone under robustness")


#: The methods that take HIMO's natural step (Algorithm 1 as printed, or computed sparsely).
HIMO_METHODS = ("newton", "natural")


@dataclass(frozen=True)
class Discussion:
    """A paragraph that a claim adds to the discussion of the replication report.

    ``facts(tables, claim_id)`` reads what the paragraph states from the workflow's
    tables (a :class:`himo.verdicts.findings.Tables`) as a dict of plain values, or
    None when there is nothing to say; ``template`` is the file of
    :mod:`himo.verdicts.templates` that words them (it gets the dict's items and
    ``claim``, the claim's id).
    """

    template: str
    facts: Callable[..., dict | None]


@dataclass(frozen=True)
class Claim:
    """One claim of the paper: what it says, how himo decides it, on which runs.

    ``figure`` is the paper's figure (``"all"`` for a claim about every run),
    ``paper_env`` the paper environment it is about (``"*"`` for all),
    ``paper_text`` what the paper says, ``definition`` the operational definition
    that ``decide`` implements, and ``runs`` the rule that selects the runs
    ``decide`` gets (one dataset for :class:`MainRun`, a list for
    :class:`EveryMainRun`). ``summarize`` maps the numbers of a decision to the
    columns of :data:`SUMMARY_FIELDS` it fills (the robustness table's), and
    ``summary`` says in words what it puts there. ``claimed``, for a claim that
    names states the flow prioritizes (bottlenecks, doorways, the wormhole), maps a
    run to those states as ``[(state index, role), ...]``: the bottleneck lift
    (:mod:`himo.verdicts.lift`) follows them on every run of the claim's
    environment. ``order_based`` says the rule reads the priority order (so the
    DP order and random orders can be judged by it: :mod:`himo.verdicts.nulls`).
    ``partly_because`` maps the numbers of a partly replicated decision to its cause,
    ``"<one of PARTLY_CAUSES>: <the states or runs>"``. ``discussion`` holds what the
    claim adds to the replication report's discussion (:class:`Discussion`), beyond
    its verdicts.
    """

    id: str
    figure: str
    paper_env: str
    paper_text: str
    definition: str
    decide: Callable[..., Decision]
    runs: RunSelection = MainRun()
    summarize: Callable[[dict], dict] | None = None
    summary: str = ""
    claimed: Callable[[xr.Dataset], list[tuple[int, str]]] | None = None
    order_based: bool = True
    partly_because: Callable[[dict], str] | None = None
    discussion: tuple[Discussion, ...] = ()


def claimed_states(ds: xr.Dataset, claims: Sequence[Claim]) -> list[tuple[int, str]]:
    """The states the claims of ``ds``'s paper environment name, with their roles, in
    claim order, each state once; a claim that cannot name them on this run (no
    clusters, no wormhole) names none."""
    paper_env = str(ds.attrs.get("paper_env", ""))
    found: dict[int, str] = {}
    for claim in claims:
        if claim.claimed is None or claim.paper_env != paper_env:
            continue
        try:
            named = claim.claimed(ds)
        except NotEvaluable:
            continue
        for state, role in named:
            found.setdefault(int(state), role)
    return list(found.items())


#: The columns in which a claim summarizes the numbers of one decision (one row
#: of results/robustness.csv); each claim fills those that apply to it.
SUMMARY_FIELDS = {
    "subject": "the states the claim is about (labels, space-separated)",
    "subject_priority": "the subject's priority (the earliest of its states')",
    "subject_rank": ("the subject's rank among the on-path states (1 + the on-path states that precede it; the "
                     "best of its states')"),
    "rival": "the state whose priority the subject's is compared with",
    "rival_priority": "the rival's priority",
    "margin": ("how far the claimed order holds, in planning time: positive when the subject is where the "
               "claim puts it relative to the rival (ahead, or for H3 behind), negative when not"),
    "count": "a count the verdict rests on (the claim says which)",
    "of": "out of how many",
    "value": "a number the verdict rests on (the claim says which)",
    "resolution": ("the resolution at which the subject's priority is compared with the rival's (planning "
                   "time): a margin smaller than it is a tie"),
}


def judge(claim: Claim, runs: Sequence[xr.Dataset]) -> dict:
    """The record of one claim on ``runs``: its texts, verdict, numbers, runs and robustness.

    The verdict and numbers are the main run's under :data:`PAPER_PRIORITY`;
    ``verdict_by_priority`` gives the main run's verdict under each definition of
    :data:`PRIORITY_DEFINITIONS`. ``robustness`` has one entry per run judged
    alone: its :func:`choices`, ``varied`` (:func:`varied_choices`), ``verdict``
    (the paper's definition's), ``verdict_by_priority`` and ``numbers_by_priority``
    (left out of results/claims.json; results/robustness.csv summarizes them).
    """
    chosen = claim.runs(claim, runs)
    if chosen.main is None:
        by_priority = {name: (NOT_EVALUATED, {"reason": chosen.missing}) for name in PRIORITY_DEFINITIONS}
    else:
        by_priority = {name: _decide(claim, chosen.main, name) for name in PRIORITY_DEFINITIONS}
    verdict, numbers = by_priority[PAPER_PRIORITY]
    because = partly_cause(claim, verdict, numbers)
    nulls = {} if verdict == NOT_EVALUATED else null_judgement(claim, chosen.main)
    robustness = {}
    for key, (ds, arguments) in chosen.variants.items():
        decided = {name: _decide(claim, arguments, name) for name in PRIORITY_DEFINITIONS}
        robustness[key] = {
            **choices(ds), "stop_reason": str(ds.attrs.get("stop_reason", "")),
            "varied": varied_choices(ds, main_run_of(ds, runs)),
            "verdict": decided[PAPER_PRIORITY][0],
            "partly_because": partly_cause(claim, *decided[PAPER_PRIORITY]),
            "verdict_by_priority": {name: v for name, (v, _) in decided.items()},
            "numbers_by_priority": {name: n for name, (_, n) in decided.items()},
        }
    return {
        "id": claim.id, "figure": claim.figure, "paper_env": claim.paper_env,
        "statement": claim.paper_text, "definition": claim.definition,
        "verdict": verdict, "partly_because": because, "numbers": numbers, "priority": PAPER_PRIORITY,
        "verdict_by_priority": {name: v for name, (v, _) in by_priority.items()},
        **nulls, **chosen.names, "robustness": robustness,
    }


def evaluate_claims(claims: Sequence[Claim], runs: Sequence[xr.Dataset]) -> dict[str, dict]:
    """Judge every claim of the registry ``claims`` on ``runs`` (measures datasets); one record per id."""
    ids = [claim.id for claim in claims]
    if len(set(ids)) != len(ids):
        raise ValueError(f"claim ids must be unique, got {ids}")
    return {claim.id: judge(claim, runs) for claim in claims}


def partly_cause(claim: Claim, verdict: str, numbers: dict) -> str | None:
    """Why a partly replicated decision is partly (:data:`PARTLY_CAUSES`); None for
    any other verdict. A claim without ``partly_because`` never gives partly."""
    if verdict != PARTLY:
        return None
    if claim.partly_because is None:
        raise ValueError(f"claim {claim.id} gave {PARTLY!r} but has no partly_because to say why")
    return claim.partly_because(numbers)


def null_judgement(claim: Claim, arguments: tuple) -> dict:
    """The DP order's and random orders' verdicts on the decision's ``arguments`` (the
    run first; :func:`himo.verdicts.nulls.null_judgement`)."""
    from himo.verdicts.nulls import null_judgement as judged

    return judged(claim, arguments[0], others=arguments[1:])


def _decide(claim: Claim, arguments: tuple, priority: str = PAPER_PRIORITY) -> Decision:
    """The claim's decision on ``arguments`` with ``priority`` the definition's variable."""
    try:
        verdict, numbers = claim.decide(*_with_priority_arguments(arguments, priority))
    except NotEvaluable as err:
        return NOT_EVALUATED, {"reason": str(err)}
    if verdict not in VERDICTS:
        raise ValueError(f"claim {claim.id}: the verdict {verdict!r} is not one of {VERDICTS}")
    return verdict, numbers


def with_priority(ds: xr.Dataset, definition: str) -> xr.Dataset:
    """A view of run ``ds`` whose ``priority`` is the variable of ``definition``
    (:data:`PRIORITY_DEFINITIONS`); without that variable the view has no
    ``priority``, and a claim that reads it is not evaluated. No data is copied."""
    variable = PRIORITY_DEFINITIONS[definition]
    if variable == "priority":
        return ds
    view = ds.drop_vars("priority", errors="ignore")
    return view.assign(priority=ds[variable]) if variable in ds else view


def _with_priority_arguments(arguments: tuple, definition: str) -> tuple:
    """The decision function's arguments with every run (alone or in a list) viewed by
    :func:`with_priority`."""
    def view(item):
        if isinstance(item, xr.Dataset):
            return with_priority(item, definition)
        if isinstance(item, list):
            return [view(x) for x in item]
        return item

    return tuple(view(item) for item in arguments)


# ---------------------------------------------------------------------- the runs
#: The open choices of a run, each read from the run's attributes by :func:`choices`.
CHOICES = ("method", "foresight", "step", "e_form", "dependent_rule", "goal_reward", "step_reward", "placement",
           "seed", "features")


def run_key(ds: xr.Dataset) -> str:
    """The run's name: its ``env_key`` (else its environment)."""
    return str(ds.attrs.get("env_key", "")) or str(ds.attrs.get("environment", "run"))


def choices(ds: xr.Dataset) -> dict:
    """``env_key``, ``paper_env`` and the run's :data:`CHOICES`, from its attributes
    (the solver settings it recorded, its environment's rewards, its start and goal)."""
    a = ds.attrs
    return {
        "env_key": run_key(ds),
        "paper_env": str(a.get("paper_env", "")),
        "method": _plain(a.get("method")),
        "foresight": _plain(a.get("foresight")),
        "step": _plain(a.get("step")),
        "e_form": _plain(a.get("e_form")),
        "dependent_rule": _plain(a.get("dependent_rule")),
        "goal_reward": _plain(a.get("env_goal_reward")),
        "step_reward": _plain(a.get("env_step_reward")),
        "placement": placement(ds),
        "seed": prior_seed(ds),
        "features": str(a.get("features", "")),
    }


def prior_seed(ds: xr.Dataset) -> int | None:
    """The seed of the prior the run started from (the setting ``prior_seed``); None for
    the uniform prior of Eq. 22 (seed 0, or a run recorded before the setting existed)."""
    return int(ds.attrs.get("prior_seed", 0)) or None


def placement(ds: xr.Dataset) -> str:
    """Where the run starts and ends: ``"r1c1 to r11c11"`` (the start's and the goal's labels)."""
    start, goal = states.start(ds), states.goal(ds)
    names = states.labels(ds)
    return f"{'?' if start is None else names[start]} to {'?' if goal is None else names[goal]}"


def _plain(value):
    """An attribute as a plain Python value (netCDF gives numpy scalars)."""
    return value.item() if isinstance(value, np.generic) else value


def _comparable(name: str, value):
    """A choice's value as :func:`varied_choices` compares it: ``newton`` and
    ``natural`` are one method (Algorithm 1's step computed densely or sparsely:
    the same iterates; docs/MATH.md)."""
    return "natural" if name == "method" and value == "newton" else value


def varied_choices(ds: xr.Dataset, main: xr.Dataset | None) -> list[str]:
    """The :data:`CHOICES` in which run ``ds`` differs from ``main`` (its paper
    environment's main run), in the order of :data:`CHOICES`; none for the main run
    itself or when there is no main run."""
    if main is None or main is ds:
        return []
    mine, theirs = choices(ds), choices(main)
    return [name for name in CHOICES if _comparable(name, mine[name]) != _comparable(name, theirs[name])]


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


def main_run_of(ds: xr.Dataset, runs: Sequence[xr.Dataset]) -> xr.Dataset | None:
    """The main run of ``ds``'s paper environment (:func:`runs_of`, first); a run of no
    paper environment is its own."""
    paper_env = str(ds.attrs.get("paper_env", ""))
    if not paper_env:
        return ds
    found = runs_of(runs, paper_env)
    return found[0] if found else None


def reference_run(ds: xr.Dataset, references: Sequence[xr.Dataset], ignore: tuple[str, ...] = (),
                  any_placement: bool = True) -> xr.Dataset | None:
    """Among ``references`` (runs of another paper environment, or of another method),
    the one made with ``ds``'s choices: all of :data:`CHOICES` but ``ignore`` alike, else
    (with ``any_placement``) all but those and the placement; None if there is none. Of
    several, the first."""
    mine = choices(ds)
    for ignored in ((ignore, (*ignore, "placement")) if any_placement else (ignore,)):
        for ref in references:
            theirs = choices(ref)
            if all(mine[n] == theirs[n] for n in CHOICES if n not in ignored):
                return ref
    return None


# ------------------------------------------------------- what a claim requires
def require_role(ds: xr.Dataset, name: str) -> np.ndarray:
    """The role's mask (:func:`himo.measures.states.role`); NotEvaluable if the run has no such role."""
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
    """The start state of the optimal path (:func:`himo.measures.states.start`); NotEvaluable
    if the run does not name it."""
    start = states.start(ds)
    if start is None:
        raise NotEvaluable("the run does not name its start state")
    return start


# --------------------------------------------------------------- the vocabulary
def priorities(ds: xr.Dataset) -> np.ndarray:
    """Each state's priority (NaN: none); NotEvaluable if the run has none of the
    definition it is judged under (a measures file from before that definition)."""
    if "priority" not in ds:
        raise NotEvaluable("the run has no priority of this definition: rerun himo measures")
    return np.asarray(ds["priority"].values, dtype=float)


def time_grid(ds: xr.Dataset) -> np.ndarray:
    """The run's stored planning times (``time``), on which its priorities are located;
    NotEvaluable without them."""
    if "time" not in ds.coords and "time" not in ds:
        raise NotEvaluable("the run has no time grid (time): rerun himo measures")
    return np.asarray(ds["time"].values, dtype=float)


def on_path_ranks(ds: xr.Dataset) -> dict[int, int]:
    """``{state: rank}`` of the on-path states with a priority: 1 + the number of
    on-path states that precede it (:func:`himo.measures.orders.path_ranks` + 1, on
    the run's :func:`time_grid`)."""
    prio = priorities(ds)
    ranks = orders.path_ranks(prio, states.on_path(ds), time_grid(ds))
    return {int(s): int(ranks[s]) + 1 for s in states.optimal_path(ds) if ranks[s] >= 0}


def on_path_ties(ds: xr.Dataset) -> dict[int, list[int]]:
    """``{state: [the on-path states tied with it, in path order]}`` for the on-path
    states with a priority (:func:`himo.measures.orders.tied` on the run's
    :func:`time_grid`)."""
    prio, time = priorities(ds), time_grid(ds)
    ranked = [int(s) for s in states.optimal_path(ds) if np.isfinite(prio[s])]
    close = orders.tied(prio[ranked][:, None], prio[ranked][None, :], time).reshape(len(ranked), len(ranked))
    return {s: [o for o, tie in zip(ranked, row) if tie and o != s] for s, row in zip(ranked, close)}


def on_path_priority_order(ds: xr.Dataset) -> list[list]:
    """On-path states in priority order (path order on priorities at one time, round-off
    aside: :func:`himo.measures.orders.time_sort_keys`):
    ``[[label, priority, path position, rank], ...]`` (:func:`on_path_ranks`: equal
    ranks are tied)."""
    labels, prio, rank = states.labels(ds), priorities(ds), on_path_ranks(ds)
    path = [int(s) for s in states.optimal_path(ds)]
    position = {s: i for i, s in enumerate(path)}
    key = orders.time_sort_keys(prio)
    ranked = sorted(rank, key=lambda s: (key[s], position[s]))
    return [[labels[s], float(prio[s]), position[s], rank[s]] for s in ranked]


def lead_status(ds: xr.Dataset, claimed: Sequence[int], goal: int) -> dict:
    """For each claimed state, by label: on the path? its priority; does it lead, tie
    for the lead, jump ahead (of which states)? with which other on-path states (the
    goal and the claimed set aside) is it tied, and at what resolution is it compared
    with the earliest of those others, the rival (``resolution_to_rival``; the widest
    to any of them when several are at one time, round-off aside:
    :func:`himo.measures.orders.earliest`)?"""
    prio, labels, time = priorities(ds), states.labels(ds), time_grid(ds)
    path = [int(s) for s in states.optimal_path(ds)]
    position = {s: i for i, s in enumerate(path)}
    others = [s for s in path if s != goal and s not in claimed and np.isfinite(prio[s])]
    rivals = orders.earliest(prio, others)
    rank, ties = on_path_ranks(ds), on_path_ties(ds)

    def precedes(a: int, b: int) -> bool:
        return orders.precedes(prio[a], prio[b], time)

    out = {}
    for c in claimed:
        if c not in position or not np.isfinite(prio[c]):
            out[labels[c]] = {"on_path": c in position, "priority": float(prio[c]), "leads": False,
                              "tied_for_lead": False, "jumps_ahead_of": [], "tied_with": []}
            continue
        leads = all(precedes(c, o) for o in others)
        tied_for_lead = not leads and not any(precedes(o, c) for o in others)
        downstream = [o for o in others if position[o] > position[c] and precedes(c, o)]
        out[labels[c]] = {
            "on_path": True, "priority": float(prio[c]), "path_position": position[c],
            "rank_on_path": rank[c],
            "leads": leads, "tied_for_lead": tied_for_lead,
            "jumps_ahead_of": [labels[o] for o in downstream],
            "tied_with": [labels[o] for o in ties[c] if o in others],
            "resolution_to_rival": (float(np.max(orders.pair_resolution(time, prio[c], prio[rivals])))
                                    if rivals else None),
        }
    return out


def lead_off_path(ds: xr.Dataset, state: int, goal: int, excluded: Sequence[int] = ()) -> dict:
    """Whether a state off the run's path would lead if its route had been taken: its
    priority against every on-path state but the goal and ``excluded`` (the state it
    stands in for), by the tie rule: ``{"priority", "leads", "tied_for_lead",
    "tied_with"}``. For a claim about states of tied routes (the four-room corner
    placement enters the goal room through either of two doorways)."""
    prio, labels, time = priorities(ds), states.labels(ds), time_grid(ds)
    others = [int(s) for s in states.optimal_path(ds)
              if s != goal and s not in excluded and s != state and np.isfinite(prio[s])]
    if not np.isfinite(prio[state]):
        return {"priority": float(prio[state]), "leads": False, "tied_for_lead": False, "tied_with": []}
    leads = all(orders.precedes(prio[state], prio[o], time) for o in others)
    return {"priority": float(prio[state]), "leads": leads,
            "tied_for_lead": not leads and not any(orders.precedes(prio[o], prio[state], time) for o in others),
            "tied_with": [labels[o] for o in others if orders.tied(prio[state], prio[o], time)]}


#: What :func:`lead_summary` puts in the :data:`SUMMARY_FIELDS`, in words.
LEAD_SUMMARY = (
    "subject: {subject} on the path; subject_priority and subject_rank: the earliest of theirs; rival: the "
    "earliest on-path state that is neither the goal nor claimed (all of them, in path order, when several are at "
    "one time but for round-off), margin: its priority minus the subject's; "
    "resolution: the earliest claimed state's resolution_to_rival; "
    "count: the on-path states between a claimed state and the goal that a claimed state jumps ahead of, of: "
    "how many on-path states lie between a claimed state and the goal")


def lead_summary(status: dict, order: list[list], goal: str) -> dict:
    """The :data:`SUMMARY_FIELDS` of a claim that a set of states leads, from its
    :func:`lead_status`, :func:`on_path_priority_order` and goal label, as
    :data:`LEAD_SUMMARY` says."""
    on_path = {label: v for label, v in status.items() if v["on_path"] and "path_position" in v}
    summary = {"subject": " ".join(sorted(status))}
    if on_path:
        key = dict(zip(on_path, orders.time_sort_keys([v["priority"] for v in on_path.values()])))
        first = min(on_path, key=lambda label: (key[label], on_path[label]["path_position"]))
        summary.update(subject=" ".join(sorted(on_path)), subject_priority=on_path[first]["priority"],
                       subject_rank=min(v["rank_on_path"] for v in on_path.values()))
        rivals = [row for row in order if row[0] != goal and row[0] not in status]  # in priority order
        if rivals:
            at_once = [row[0] for row in rivals if same_time(row[1], rivals[0][1])]  # in path order
            summary.update(rival=" ".join(at_once), rival_priority=rivals[0][1],
                           margin=rivals[0][1] - summary["subject_priority"],
                           resolution=on_path[first]["resolution_to_rival"])
        nearest = min(v["path_position"] for v in on_path.values())
        between = {row[0] for row in rivals if row[2] > nearest}
        summary.update(count=len(set().union(*(v["jumps_ahead_of"] for v in on_path.values()))), of=len(between))
    return summary


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


def lead_cause(status: dict) -> str:
    """Why a :func:`lead_verdict` is partly, from its :func:`lead_status`: some of the
    claimed states lead (when every one must), one is tied for the lead at the
    resolution, or one is only ahead of some states between it and the goal."""
    leading = [label for label, v in status.items() if v["leads"]]
    if leading:
        return f"{SOME_OF_THE_STATES}: {len(leading)} of {len(status)} lead ({', '.join(leading)})"
    tied = {label: v for label, v in status.items() if v["tied_for_lead"]}
    if tied:
        return f"{WITHIN_RESOLUTION}: " + ", ".join(
            f"{label} with {', '.join(v['tied_with']) or 'the rival'} (resolution {significant(v['resolution_to_rival'])})"
            for label, v in tied.items())
    ahead = sorted(set().union(*(v["jumps_ahead_of"] for v in status.values())))
    return f"{JUMPS_AHEAD}: of {', '.join(ahead)}"


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
