"""The claims written out: the JSON and Markdown reports of a judgement, and docs/CLAIMS.md.

:func:`claims_json` and :func:`claims_markdown` write the records of
:func:`himo.verdicts.judging.evaluate_claims` (``results/claims.json`` and
``results/claims.md``; the tidy tables of the robustness atlas are
:mod:`himo.verdicts.robustness`'s); :func:`claims_reference` writes the registry itself, with no
run: each claim's paper text, operational definition and runs, and the words the
definitions use. ``docs/CLAIMS.md`` is its output, kept current by a test;
regenerate it with::

    .venv/bin/python -m himo.verdicts.report docs/CLAIMS.md
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Sequence

import numpy as np

from himo.verdicts.judging import (
    NOT,
    NOT_EVALUATED,
    PAPER_PRIORITY,
    PARTLY,
    PRIORITY_DEFINITIONS,
    REPLICATED,
    SUMMARY_FIELDS,
    VOCABULARY,
    Claim,
)

#: JSON floats are rounded to this many significant digits.
SIGNIFICANT = 6

_VERDICT_MEANING = {
    REPLICATED: "the measures show what the paper says, by the definition",
    PARTLY: "they show a weaker form of it (named in each definition)",
    NOT: "they do not",
    NOT_EVALUATED: "the run the claim needs is missing, or lacks what the definition reads (the reason is given)",
}


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


def _vocabulary_lines() -> list[str]:
    return [f"- **{term}**: {text}" for term, text in VOCABULARY.items()]


#: One letter per verdict in the robustness tables of results/claims.md.
VERDICT_LETTERS = {REPLICATED: "R", PARTLY: "P", NOT: "N", NOT_EVALUATED: "-"}
#: How results/claims.md names the priority definitions.
PRIORITY_NAMES = {"peak": "the peak of dPD/dt (the paper's)", "half": "the time PD~ first reaches 1/2"}


def claims_markdown(records: dict, claims: Sequence[Claim] | None = None) -> str:
    """A readable report of ``records`` (judged on the registry ``claims``, default
    the paper's): the verdicts at the paper's settings with what they rest on; the
    robustness atlas, one compact table per choice varied; then each claim's
    definition and numbers."""
    if claims is None:
        from himo.verdicts.claims import CLAIMS as claims
    from himo.verdicts.robustness import robustness_table

    rows = robustness_table(records, claims)
    records = _clean(records)
    lines = [
        "# Claims of the paper and their verdicts", "",
        "Decided by `himo claims` (himo.verdicts.claims) from the measures of each run; the claims and "
        "their definitions are in docs/CLAIMS.md. A verdict is judged with the paper's priority, "
        f"{PRIORITY_NAMES[PAPER_PRIORITY]}; every claim is also judged with "
        + " and ".join(PRIORITY_NAMES[p] for p in PRIORITY_DEFINITIONS if p != PAPER_PRIORITY)
        + ", to show how much the verdict rests on that choice. Every claim is judged on every run of its "
        "paper environment (G1 on every run); all of it, with the numbers, is in results/robustness.csv.",
        "", "## Verdicts at the paper's settings", "",
        "| claim | figure | run | verdict | "
        + " | ".join(f"with {PRIORITY_NAMES[p]}" for p in PRIORITY_DEFINITIONS if p != PAPER_PRIORITY)
        + " | what it rests on |",
        "|---|---|---|---|" + "---|" * (len(PRIORITY_DEFINITIONS) - 1) + "---|",
    ]
    main_rows = {(r["claim"], r["env_key"]): r for r in rows if r["group"] == "main" and r["priority"] == PAPER_PRIORITY}
    for cid, r in records.items():
        run = r.get("run") or ", ".join(r.get("runs", [])) or "-"
        others = " | ".join(r["verdict_by_priority"][p] for p in PRIORITY_DEFINITIONS if p != PAPER_PRIORITY)
        keys = [r["run"]] if r.get("run") else r.get("runs", [])
        rests = "; ".join((f"{key}: " if len(keys) > 1 else "") + _summary_text(main_rows[(cid, key)])
                          for key in keys if (cid, key) in main_rows)
        lines.append(f"| {cid} | {r['figure']} | {run} | **{r['verdict']}** | {others} | {rests or '-'} |")
    lines += ["", "Words used by the definitions:", "", *_vocabulary_lines(), ""]
    lines += _robustness_lines(rows)
    for cid, r in records.items():
        lines += ["", f"## {cid} (Fig. {r['figure']}): {r['verdict']}", "",
                  f"**The paper says.** {r['statement']}", "",
                  f"**Operational definition.** {r['definition']}", "",
                  "**Numbers** (the main run, the paper's priority).", "", "```json",
                  json.dumps(r.get("numbers", {}), sort_keys=True, indent=1), "```"]
    return "\n".join(lines) + "\n"


def _summary_text(row: dict) -> str:
    """A row's summary in words: ``subject 111 (rank 2, 3.1); rival ...``."""
    parts = []
    for name in SUMMARY_FIELDS:
        value = row.get(name)
        if value is None or value == "" or (isinstance(value, float) and not math.isfinite(value)):
            continue
        parts.append(f"{name.replace('_', ' ')} {_short(value)}")
    return ", ".join(parts)


def _short(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _robustness_lines(rows: list[dict]) -> list[str]:
    """One table per group of the atlas (:func:`_group_table`); a cell is the verdict
    letter with the paper's priority, then, when it differs, with the other definitions."""
    from himo.verdicts.robustness import group_order

    others = [p for p in PRIORITY_DEFINITIONS if p != PAPER_PRIORITY]
    lines = [
        "## Robustness: every claim on every variant", "",
        "One table per choice varied; each column is a run that differs from its environment's main run (the "
        "column main) in that choice only; the methods' table sets the first-order baselines beside HIMO "
        "(its main run and the foresight variants) at each foresight. A cell is the verdict with the paper's "
        f"priority: {', '.join(f'{letter} {verdict}' for verdict, letter in VERDICT_LETTERS.items())}; "
        + "; ".join(f"`X/Y` gives Y, the verdict with {PRIORITY_NAMES[p]}, where it differs" for p in others)
        + ". An empty cell: that environment has no such run.", "",
    ]
    groups = sorted({row["group"] for row in rows} - {"main"}, key=lambda g: (group_order(g), g))
    variants = {g: {row["variant"] for row in rows if row["group"] == g} for g in groups}
    singles = [g for g in groups if len(variants[g]) == 1 and g != "method"]
    for group in groups:
        if group not in singles:
            lines += _group_table([group], rows, others)
        elif group == singles[0]:
            lines += _group_table(singles, rows, others)
    return lines


def _group_table(groups: list[str], rows: list[dict], others: list[str]) -> list[str]:
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
            return f"{r['foresight']:g}"
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
    out = [f"### {title}", "", "| " + " | ".join(header + columns) + " |", "|" + "---|" * (len(header) + len(columns))]
    for line in lines_shown:
        texts = ["" if (line, c) not in cells else _cell_text(cells[(line, c)], others) for c in columns]
        out.append("| " + " | ".join(list(line) + texts) + " |")
    return out + [""]


def _cell_text(verdicts: dict, others: list[str]) -> str:
    paper = VERDICT_LETTERS[verdicts[PAPER_PRIORITY]]
    differing = [VERDICT_LETTERS[verdicts[p]] for p in others if p in verdicts and verdicts[p] != verdicts[PAPER_PRIORITY]]
    return "/".join([paper, *differing])


def claims_reference(claims: Sequence[Claim] | None = None) -> str:
    """docs/CLAIMS.md: the registry ``claims`` (default: the paper's) without any run."""
    if claims is None:
        from himo.verdicts.claims import CLAIMS as claims
    lines = [
        "# The paper's claims and how himo decides them",
        "",
        "<!-- Generated from the registry himo.verdicts.claims.CLAIMS by "
        "`python -m himo.verdicts.report docs/CLAIMS.md`; tests/verdicts/test_report.py fails when it is "
        "stale. Edit the registry, not this file. -->",
        "",
        "Each claim of the paper is one object of `himo.verdicts.claims.CLAIMS`: what the paper says, "
        "the operational definition by which `himo claims` decides it from the measures of the runs "
        "(docs/CONTRACTS.md, docs/MATH.md section 7), and the runs it is decided on. The verdicts of a "
        "run of the pipeline, with the numbers they rest on, are in `results/claims.md` and "
        "`results/claims.json`.",
        "",
        "## Verdicts",
        "",
        *[f"- **{verdict}**: {meaning}." for verdict, meaning in _VERDICT_MEANING.items()],
        "",
        "## Words used by the definitions",
        "",
        *_vocabulary_lines(),
        "",
        "## The robustness table",
        "",
        "Every claim is judged on every run of its paper environment (G1 on every run) under each definition "
        "of the priority; `results/robustness.csv` has one row per claim, run and definition: the run's choices "
        "(read from its attributes), the group of the atlas it belongs to (the choice in which it differs from "
        "its environment's main run), the verdict, and the numbers it rests on in these columns (each claim "
        "says below which it fills):",
        "",
        *[f"- **{name}**: {text}." for name, text in SUMMARY_FIELDS.items()],
        "",
        "## Claims",
        "",
        "| id | figure | paper environment | the paper says |",
        "|---|---|---|---|",
        *[f"| {c.id} | {c.figure} | {c.paper_env} | {c.paper_text} |" for c in claims],
    ]
    for c in claims:
        lines += ["", f"### {c.id} (Fig. {c.figure})", "",
                  f"**The paper says.** {c.paper_text}", "",
                  f"**Operational definition.** {c.definition}", "",
                  f"**Runs.** Decided on {c.runs.describe(c)}."]
        if c.summary:
            lines += ["", f"**In results/robustness.csv.** {c.summary}."]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="write docs/CLAIMS.md from the claims registry")
    parser.add_argument("out", help="the Markdown file to write (docs/CLAIMS.md)")
    Path(parser.parse_args(argv).out).write_text(claims_reference())


if __name__ == "__main__":
    main()
