"""The robustness atlas as tidy tables: every claim judged on every run, under each priority definition.

:func:`himo.verdicts.judging.evaluate_claims` judges each claim on its main run and
on every run of its paper environment (every run for G1), under each priority
definition of :data:`~himo.verdicts.judging.PRIORITY_DEFINITIONS`. This module lays
those judgements out for reading and drawing:

* :func:`robustness_table`, ``results/robustness.csv``: one row per claim, run and
  priority definition, with the run's choices (read from its attributes), the
  group of the atlas it belongs to (the choice it varies, :func:`group_of`), its
  label within the group (:func:`variant_of`), the verdict and the numbers the
  verdict rests on (the claim's summary, :data:`~himo.verdicts.judging.SUMMARY_FIELDS`);
* :func:`rank_table`, ``results/priority_ranks.csv``: one row per run, priority
  definition and on-path state, with its priority, its rank and the on-path states
  tied with it (the ranks and ties the claims read, :func:`himo.verdicts.judging.on_path_ranks`
  and :func:`~himo.verdicts.judging.on_path_ties`, by the one rule of
  :func:`himo.measures.orders.precedes`) and the claims whose subject it is;
* both written by :func:`himo.io.csv_text`, the same bytes for the same rows.

**Groups.** A run belongs to the group of the choices in which it differs from the
main run of its paper environment (:func:`himo.verdicts.judging.varied_choices`):
``main`` (none), ``foresight``, ``step``, ``E form``, ``reward``, ``step rule``
(HIMO's flow with the multiplicative step), ``dependent rule``, ``placement`` (of
the start and the goal), ``method`` (the first-order baselines, at each
foresight) and ``prior`` (a run started from a prior drawn near the uniform one, the
setting ``prior_seed``: of any method, at any foresight; its label is the method's
family and the foresight, its seed in the column ``seed``). A run that varies another
combination is in a group named by its choices joined with ``+``.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import xarray as xr

from himo.io import table_number
from himo.measures import states
from himo.verdicts.judging import (
    CHOICES,
    SUMMARY_FIELDS,
    Claim,
    NotEvaluable,
    on_path_ranks,
    on_path_ties,
    partly_cause,
    priorities,
    run_key,
    with_priority,
)
from himo.verdicts.baselines import family_of_method
from himo.verdicts.priors import PRIOR_GROUP
from himo.verdicts.vocabulary import PAPER_PRIORITY, PRIORITY_DEFINITIONS

#: The groups of the atlas in the order they are shown; a group is named by the
#: choices its runs vary (``reward`` stands for goal_reward and step_reward).
GROUPS = ("main", "foresight", "step", "E form", "reward", "step rule", "dependent rule", "placement", "method",
          PRIOR_GROUP, "features")
#: The group of each single varied choice (``method`` is split by :func:`group_of`).
GROUP_OF_CHOICE = {"foresight": "foresight", "step": "step", "e_form": "E form", "goal_reward": "reward",
                    "step_reward": "reward", "dependent_rule": "dependent rule", "placement": "placement",
                    "features": "features"}
#: The methods that change only the step rule of HIMO's flow (the others are other methods).
STEP_RULE_METHODS = ("multiplicative",)

#: The columns of results/robustness.csv.
ROBUSTNESS_COLUMNS = ("claim", "paper_env", "env_key", "priority", "verdict", "partly_because", "group", "variant",
                      *CHOICES,
                      "stop_reason", *SUMMARY_FIELDS)
#: The columns of results/priority_ranks.csv.
RANK_COLUMNS = ("paper_env", "env_key", "priority", "group", "variant", "family", "compared", *CHOICES, "state",
                "path_position",
                "steps_to_goal", "priority_time", "rank", "tied_with", "role", "claimed_by")


# ------------------------------------------------------------------- the groups
def group_of(run: dict) -> str:
    """The atlas group of a run: ``run`` has its choices and ``varied`` (a record's
    robustness entry)."""
    varied = list(run["varied"])
    if not varied:
        return "main"
    if "seed" in varied:
        return PRIOR_GROUP
    if "method" in varied:
        return "step rule" if run["method"] in STEP_RULE_METHODS and varied == ["method"] else "method"
    named = list(dict.fromkeys(GROUP_OF_CHOICE.get(name, name) for name in varied))
    return "+".join(named)


def variant_of(run: dict) -> str:
    """The run's label within its group: the values of the choices it varies
    (the method's group also gives the foresight, its axis)."""
    group = group_of(run)
    if group == "main":
        return "main"
    if group == "method":
        return f"{run['method']} {_number(run['foresight'])}"
    if group == PRIOR_GROUP:
        return f"{family_of_method(run['method'])} {_number(run['foresight'])}"
    if group == "reward":
        return f"goal {_number(run['goal_reward'])}, step {_number(run['step_reward'])}"
    return ", ".join(_number(run[name]) for name in run["varied"])


def group_order(group: str) -> int:
    """Where a group is shown: the order of :data:`GROUPS`, unknown groups last."""
    return GROUPS.index(group) if group in GROUPS else len(GROUPS)


def variant_sort_key(row: dict) -> tuple:
    """The order of the rows of a table: by group, then method, foresight, step and
    the other choices (``row`` has ``group``, ``env_key`` and the choices)."""
    return (group_order(row["group"]), row["group"], str(row["method"]),
            *(_sortable(row[name]) for name in ("foresight", "step", "e_form", "dependent_rule", "goal_reward",
                                                "step_reward", "placement", "seed")), row["env_key"])


def _sortable(value) -> tuple:
    return (0, float(value), "") if isinstance(value, (int, float)) else (1, 0.0, str(value))


def _number(value) -> str:
    return table_number(value) if isinstance(value, float) else str(value)


# ---------------------------------------------------------- results/robustness.csv
def robustness_table(records: dict, claims: Sequence[Claim]) -> list[dict]:
    """One row per claim, run and priority definition (columns :data:`ROBUSTNESS_COLUMNS`).

    ``records`` are :func:`~himo.verdicts.judging.evaluate_claims`'s on the
    registry ``claims``; the numbers of each row are the claim's summary of that
    decision (empty where the claim was not evaluated or has no summary).
    """
    by_id = {claim.id: claim for claim in claims}
    rows = []
    for claim_id, record in records.items():
        claim = by_id.get(claim_id)
        for key, run in record["robustness"].items():
            for priority in PRIORITY_DEFINITIONS:
                verdict, numbers = run["verdict_by_priority"][priority], run["numbers_by_priority"][priority]
                row = {"claim": claim_id, "paper_env": run["paper_env"], "env_key": key, "priority": priority,
                       "verdict": verdict, "partly_because": None if claim is None else partly_cause(claim, verdict, numbers),
                       "group": group_of(run),
                       "variant": variant_of(run), **{name: run[name] for name in CHOICES},
                       "stop_reason": run["stop_reason"]}
                row.update(_summary(claim, run["numbers_by_priority"][priority]))
                rows.append(row)
    order = {claim_id: i for i, claim_id in enumerate(records)}
    priority_order = list(PRIORITY_DEFINITIONS)
    rows.sort(key=lambda r: (order[r["claim"]], r["paper_env"], variant_sort_key(r), priority_order.index(r["priority"])))
    return rows


def _summary(claim: Claim | None, numbers: dict) -> dict:
    """The claim's summary of one decision, restricted to :data:`SUMMARY_FIELDS`."""
    if claim is None or claim.summarize is None or "reason" in numbers:
        return {}
    summary = claim.summarize(numbers)
    unknown = set(summary) - set(SUMMARY_FIELDS)
    if unknown:
        raise ValueError(f"claim {claim.id}: the summary has columns {sorted(unknown)} not in SUMMARY_FIELDS")
    return summary


# ------------------------------------------------------- results/priority_ranks.csv
def rank_table(runs: Sequence[xr.Dataset], records: dict, claims: Sequence[Claim]) -> list[dict]:
    """One row per run, priority definition and on-path state with a priority
    (columns :data:`RANK_COLUMNS`): its path position, steps to the goal, priority,
    rank (:func:`~himo.verdicts.judging.on_path_ranks`), the on-path states tied with
    it (labels in path order, :func:`~himo.verdicts.judging.on_path_ties`), its role
    (``start``, ``goal`` or empty) and the claims whose subject it is in that judgement.

    Every run judged by some claim appears (its choices and group are those of
    ``records``), with its method family (:func:`himo.verdicts.baselines.method_family`;
    empty for another method) and ``compared``: the run is one of those that vary the
    foresight alone around its environment's main run, by family
    (:func:`himo.verdicts.baselines.compared_run_keys`: the lines of the ranks figure);
    a definition the run has no variable for gives no rows.
    """
    from himo.verdicts.baselines import compared_run_keys, method_family

    described = {}
    for record in records.values():
        for key, run in record["robustness"].items():
            described.setdefault(key, run)
    subjects = _subjects(records, claims)
    compared = compared_run_keys(runs)
    rows = []
    for ds in sorted(runs, key=run_key):
        key = run_key(ds)
        if key not in described:
            continue
        run = described[key]
        for priority in PRIORITY_DEFINITIONS:
            try:
                view = with_priority(ds, priority)
                ranks, ties, prio = on_path_ranks(view), on_path_ties(view), priorities(view)
            except NotEvaluable:
                continue
            path = [int(s) for s in states.optimal_path(ds)]
            labels = states.labels(ds)
            for position, s in enumerate(path):
                if s not in ranks:
                    continue
                role = "start" if position == 0 else "goal" if position == len(path) - 1 else ""
                rows.append({
                    "paper_env": run["paper_env"], "env_key": key, "priority": priority,
                    "group": group_of(run), "variant": variant_of(run), "family": method_family(ds) or "",
                    "compared": key in compared, **{name: run[name] for name in CHOICES}, "state": labels[s], "path_position": position, "steps_to_goal": len(path) - 1 - position,
                    "priority_time": float(prio[s]), "rank": ranks[s],
                    "tied_with": " ".join(labels[o] for o in ties[s]), "role": role,
                    "claimed_by": " ".join(sorted(c for c in subjects.get((key, priority), {})
                                                  if labels[s] in subjects[(key, priority)][c])),
                })
    return rows


def _subjects(records: dict, claims: Sequence[Claim]) -> dict[tuple[str, str], dict[str, set[str]]]:
    """``{(run, priority definition): {claim id: the labels of its subject}}``."""
    by_id = {claim.id: claim for claim in claims}
    found: dict[tuple[str, str], dict[str, set[str]]] = {}
    for claim_id, record in records.items():
        for key, run in record["robustness"].items():
            for priority, numbers in run["numbers_by_priority"].items():
                subject = _summary(by_id.get(claim_id), numbers).get("subject")
                if subject:
                    found.setdefault((key, priority), {})[claim_id] = set(subject.split())
    return found


# ----------------------------------------------------------------- selecting
def paper_rows(rows: Iterable[dict]) -> list[dict]:
    """The rows judged under the paper's priority definition."""
    return [row for row in rows if row["priority"] == PAPER_PRIORITY]
