"""The claims written out: the JSON and Markdown reports of a judgement, and docs/CLAIMS.md.

:func:`claims_json` and :func:`claims_markdown` write the records of
:func:`himo.verdicts.judging.evaluate_claims` (``results/claims.json`` and
``results/claims.md``; the tidy tables of the robustness atlas are
:mod:`himo.verdicts.robustness`'s); :func:`claims_reference` writes the registry itself, with no
run: each claim's paper text, operational definition and runs, and the words the
definitions use. ``docs/CLAIMS.md`` is its output, kept current by a test;
regenerate it with::

    .venv/bin/himo claims-doc docs/CLAIMS.md

The Markdown is worded by the templates ``claims.j2`` and ``claims-reference.j2``
of :mod:`himo.verdicts.templates`, from the plain data that :func:`verdict_lines` and
:func:`robustness_tables` lay out.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from himo.io import TABLE_DIGITS
from himo.verdicts.judging import SUMMARY_FIELDS, VOCABULARY, Claim
from himo.verdicts.templates import render
from himo.verdicts.vocabulary import PAPER_PRIORITY, alternative_priorities, choice_value

#: The templates of results/claims.md and docs/CLAIMS.md (:mod:`himo.verdicts.templates`).
CLAIMS_TEMPLATE = "claims.j2"
REFERENCE_TEMPLATE = "claims-reference.j2"


def _clean(value):
    """JSON-ready: numpy to Python, floats to :data:`~himo.io.TABLE_DIGITS` digits, NaN and inf to None."""
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
        return float(f"{value:.{TABLE_DIGITS}g}")
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    if value is None or isinstance(value, str):
        return value
    return str(value)


def claims_json(records: dict) -> str:
    """Deterministic JSON text: sorted keys, rounded floats, one entry per claim id.

    Each run under ``robustness`` keeps its choices, ``varied``, ``verdict`` and
    ``verdict_by_priority``; the numbers of every run and priority definition
    (``numbers_by_priority``) are summarized in results/robustness.csv instead.
    """
    compact = {
        claim_id: {**record, "robustness": {
            key: {name: value for name, value in run.items() if name != "numbers_by_priority"}
            for key, run in record["robustness"].items()}}
        for claim_id, record in records.items()
    }
    return json.dumps(_clean(compact), sort_keys=True, indent=2, allow_nan=False) + "\n"


@dataclass(frozen=True)
class VerdictLine:
    """A claim at the paper's settings (a line of the first table of results/claims.md)."""

    claim: str
    figure: str
    run: str  # the run(s) it is decided on
    verdict: str
    alternative_verdicts: list[str]  # under each alternative priority definition
    rests_on: list[tuple[str | None, list[tuple[str, object]]]]  # (run, or None for the only one; the numbers)


def verdict_lines(records: dict, rows: list[dict]) -> list[VerdictLine]:
    """Each claim's verdicts and the numbers they rest on: the :data:`SUMMARY_FIELDS` of
    its main run(s) under the paper's priority (``rows``, :func:`~himo.verdicts.robustness.robustness_table`)."""
    main_rows = {(r["claim"], r["env_key"]): r for r in rows if r["group"] == "main" and r["priority"] == PAPER_PRIORITY}
    lines = []
    for cid, r in records.items():
        keys = [r["run"]] if r.get("run") else r.get("runs", [])
        lines.append(VerdictLine(
            claim=cid, figure=r["figure"], run=r.get("run") or ", ".join(r.get("runs", [])) or "-",
            verdict=r["verdict"], alternative_verdicts=[r["verdict_by_priority"][p] for p in alternative_priorities()],
            rests_on=[(key if len(keys) > 1 else None, summary_numbers(main_rows[(cid, key)]))
                      for key in keys if (cid, key) in main_rows]))
    return lines


def summary_numbers(row: dict) -> list[tuple[str, object]]:
    """``(field, value)`` of the :data:`SUMMARY_FIELDS` a row fills (None, empty and non-finite left out)."""
    return [(name, row[name]) for name in SUMMARY_FIELDS
            if not (row.get(name) is None or row.get(name) == ""
                    or (isinstance(row[name], float) and not math.isfinite(row[name])))]


@dataclass(frozen=True)
class GroupTable:
    """A table of the robustness section: a line per claim and environment (and method),
    a column per variant; a cell lists the verdict under the paper's priority, then those
    of the alternative definitions that differ (None: no such run)."""

    title: str
    header: list[str]  # the names of the line, then the columns
    lines: list[tuple[list[str], list[list[str] | None]]]


def robustness_tables(rows: list[dict]) -> list[GroupTable]:
    """One table per group of the atlas; the groups of one variant each (the methods
    aside) share a table. The drawn priors' group is left out: a cell holds one run's
    verdict, and it has several runs per setting (:mod:`himo.verdicts.priors` counts them)."""
    from himo.verdicts.priors import PRIOR_GROUP
    from himo.verdicts.robustness import group_order

    groups = sorted({row["group"] for row in rows} - {"main", PRIOR_GROUP}, key=lambda g: (group_order(g), g))
    variants = {g: {row["variant"] for row in rows if row["group"] == g} for g in groups}
    singles = [g for g in groups if len(variants[g]) == 1 and g != "method"]
    tables = []
    for group in groups:
        if group not in singles:
            tables.append(group_table([group], rows))
        elif group == singles[0]:
            tables.append(group_table(singles, rows))
    return tables


def group_table(groups: list[str], rows: list[dict]) -> GroupTable:
    """The table of some groups: a line per claim (and environment, for G1), a column
    per variant after the main run's (the groups of one variant each share a table);
    for the methods, a line per claim and method (HIMO from the main run and the
    foresight variants) and a column per foresight."""
    from himo.verdicts.robustness import GROUPS

    if groups == ["method"]:
        members = [r for r in rows if r["group"] in ("main", "foresight", "method")]
        header = ["claim", "environment", "method"]

        def line_of(r):
            return r["claim"], r["paper_env"], "HIMO" if r["group"] != "method" else r["method"]

        def column_of(r):
            return choice_value(r["foresight"])
    else:
        members = [r for r in rows if r["group"] in ("main", *groups)]
        header = ["claim", "environment"]

        def line_of(r):
            return r["claim"], r["paper_env"]

        def column_of(r):
            return r["variant"] if len(groups) == 1 or r["group"] == "main" else f"{r['group']}: {r['variant']}"
    cells: dict[tuple, dict] = {}
    for r in members:
        cells.setdefault((line_of(r), column_of(r)), {})[r["priority"]] = r["verdict"]
    judged = {(r["claim"], r["paper_env"]) for r in rows if r["group"] in groups}
    lines_shown = list(dict.fromkeys(line_of(r) for r in members if (r["claim"], r["paper_env"]) in judged))
    columns = list(dict.fromkeys(column_of(r) for r in members))
    if groups == ["method"]:
        columns.sort(key=float)
    if len(groups) > 1:
        title = "the other choices, one variant each"
    else:
        title = groups[0] if groups[0] in GROUPS else f"{groups[0]} (several choices)"
    return GroupTable(title, header + columns,
                      [(list(line), [_cell(cells.get((line, c))) for c in columns]) for line in lines_shown])


def _cell(verdicts: dict | None) -> list[str] | None:
    """The verdict under the paper's priority, then each alternative definition's that differs."""
    if verdicts is None:
        return None
    paper = verdicts[PAPER_PRIORITY]
    return [paper, *(verdicts[p] for p in alternative_priorities() if p in verdicts and verdicts[p] != paper)]


def claims_markdown(records: dict, claims: Sequence[Claim] | None = None) -> str:
    """A readable report of ``records`` (judged on the registry ``claims``, default
    the paper's): the verdicts at the paper's settings with what they rest on; the
    robustness atlas, one compact table per choice varied; then each claim's
    definition and numbers."""
    if claims is None:
        from himo.verdicts.claims import CLAIMS as claims
    from himo.verdicts.robustness import robustness_table

    rows = robustness_table(records, claims)
    return render(CLAIMS_TEMPLATE, verdicts=verdict_lines(_clean(records), rows), vocabulary=VOCABULARY,
                  tables=robustness_tables(rows), records=_clean(records))


def claims_reference(claims: Sequence[Claim] | None = None) -> str:
    """docs/CLAIMS.md: the registry ``claims`` (default: the paper's) without any run."""
    if claims is None:
        from himo.verdicts.claims import CLAIMS as claims
    return render(REFERENCE_TEMPLATE, claims=claims, vocabulary=VOCABULARY, summary_fields=SUMMARY_FIELDS)
