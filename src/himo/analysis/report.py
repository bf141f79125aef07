"""The claims written out: the JSON and Markdown reports of a judgement, and docs/CLAIMS.md.

:func:`claims_json` and :func:`claims_markdown` write the records of
:func:`himo.analysis.judging.evaluate_claims` (``results/claims.json`` and
``results/claims.md``); :func:`claims_reference` writes the registry itself, with no
run: each claim's paper text, operational definition and runs, and the words the
definitions use. ``docs/CLAIMS.md`` is its output, kept current by a test;
regenerate it with::

    .venv/bin/python -m himo.analysis.report docs/CLAIMS.md
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Sequence

import numpy as np

from himo.analysis.judging import NOT, NOT_EVALUATED, PARTLY, REPLICATED, VOCABULARY, Claim

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
    """Deterministic JSON text: sorted keys, rounded floats, one entry per claim id."""
    return json.dumps(_clean(records), sort_keys=True, indent=2, allow_nan=False) + "\n"


def _vocabulary_lines() -> list[str]:
    return [f"- **{term}**: {text}" for term, text in VOCABULARY.items()]


def claims_markdown(records: dict) -> str:
    """A readable report: a summary table, the words of the definitions, then each
    claim's definition, robustness and numbers."""
    records = _clean(records)
    lines = ["# Claims of the paper and their verdicts", "",
             "Decided by `himo claims` (himo.analysis.claims) from the measures of each run; "
             "the claims and their definitions are in docs/CLAIMS.md.", "",
             "| id | figure | verdict | run | robustness (run: verdict) |", "|---|---|---|---|---|"]
    for cid in sorted(records):
        r = records[cid]
        rob = "; ".join(f"{k}: {v['verdict']}" for k, v in sorted(r.get("robustness", {}).items()))
        run = r.get("run") or ", ".join(r.get("runs", [])) or "-"
        lines.append(f"| {cid} | {r['figure']} | **{r['verdict']}** | {run} | {rob} |")
    lines += ["", "Words used by the definitions:", "", *_vocabulary_lines()]
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


def claims_reference(claims: Sequence[Claim] | None = None) -> str:
    """docs/CLAIMS.md: the registry ``claims`` (default: the paper's) without any run."""
    if claims is None:
        from himo.analysis.claims import CLAIMS as claims
    lines = [
        "# The paper's claims and how himo decides them",
        "",
        "<!-- Generated from the registry himo.analysis.claims.CLAIMS by "
        "`python -m himo.analysis.report docs/CLAIMS.md`; tests/analysis/test_report.py fails when it is "
        "stale. Edit the registry, not this file. -->",
        "",
        "Each claim of the paper is one object of `himo.analysis.claims.CLAIMS`: what the paper says, "
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
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="write docs/CLAIMS.md from the claims registry")
    parser.add_argument("out", help="the Markdown file to write (docs/CLAIMS.md)")
    Path(parser.parse_args(argv).out).write_text(claims_reference())


if __name__ == "__main__":
    main()
