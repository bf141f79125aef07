"""The replication report (``himo replication``, :mod:`himo.verdicts.replication`).

The tables are made by hand here with exactly the columns the workflow writes
(:data:`~himo.verdicts.robustness.ROBUSTNESS_COLUMNS`,
:data:`~himo.verdicts.baselines.TABLE_COLUMNS`), so a column the report reads that the
tables do not have fails; the workflow test (tests/workflow) writes the report from
a real run.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
import yaml

from himo.verdicts import replication
from himo.verdicts.baselines import TABLE_COLUMNS
from himo.verdicts.judging import NOT, PARTLY, REPLICATED
from himo.verdicts.replication import Results, describe_by_foresight
from himo.verdicts.robustness import ROBUSTNESS_COLUMNS
from himo.cli import main

REPO = Path(__file__).resolve().parents[2]
VERSIONS = {"python_version": "3.11.7", "himo_version": "0.1.0"}


# ----------------------------------------------------------------- the tables
def robustness_row(claim, env, priority="peak", verdict=REPLICATED, group="main", variant="main", **choices):
    row = dict.fromkeys(ROBUSTNESS_COLUMNS, "")
    row.update(claim=claim, paper_env=env, env_key=env if group == "main" else f"{env}-{variant}",
               priority=priority, verdict=verdict, group=group, variant=variant, method="natural",
               foresight="0.9", step="0.1", e_form="exact", dependent_rule="argmax", goal_reward="1",
               step_reward="0", placement="a to b", stop_reason="converged", subject="s1",
               subject_priority="1.5", rival="007", rival_priority="2.5", margin="1")
    row.update({key: str(value) for key, value in choices.items()})
    return row


def baseline_row(env, family, foresight, tau):
    """A row whose tau against the optimal-gap order is the DP order's at 0.9 and above it at 0.97."""
    row = dict.fromkeys(TABLE_COLUMNS, "")
    gap = tau if foresight == 0.9 or tau == "" else tau + 0.1
    row.update(paper_env=env, family=family, foresight=str(foresight), env_key=f"{env}-{family}-{foresight}",
               method={"HIMO": "natural"}.get(family, family), step="0.1", stop_reason="converged",
               n_iterations="100", reached_fraction="1", kendall_tau_dp=str(tau), kendall_tau_gap=str(gap))
    return row


def claim_record(claim, verdict, figure="1"):
    return {"id": claim, "figure": figure, "statement": f"the paper's words for {claim}", "verdict": verdict,
            "verdict_by_priority": {"peak": verdict, "half": verdict}, "numbers": {}, "definition": "..."}


def make_results(h2_at_0_97=REPLICATED, tau=0.42) -> Results:
    """H1 replicated, H2 not at 0.9 (replicated at 0.97 unless told), G1 partly on
    hanoi; a step variant that moves nothing, a dependent-rule variant that moves G1."""
    claims = {"G1": claim_record("G1", PARTLY, "all"), "H1": claim_record("H1", REPLICATED),
              "H2": claim_record("H2", NOT)}
    claims["G1"]["numbers"] = {"runs": {"hanoi": {"optimal": True, "deterministic_on_reached_states": False,
                                                  "n_reached_not_deterministic": 3,
                                                  "least_deterministic_reached_state": "012",
                                                  "least_deterministic_probability": 0.5}}}
    rows = []
    for priority in ("peak", "half"):
        rows += [robustness_row("H1", "hanoi", priority),
                 robustness_row("H1", "hanoi", priority, group="foresight", variant="0.97", foresight=0.97),
                 robustness_row("H2", "hanoi", priority, NOT),
                 robustness_row("H2", "hanoi", priority, h2_at_0_97 if priority == "peak" else PARTLY,
                                group="foresight", variant="0.97", foresight=0.97),
                 robustness_row("H2", "hanoi", priority, NOT, group="step", variant="1", step=1),
                 robustness_row("G1", "hanoi", priority, PARTLY),
                 robustness_row("G1", "hanoi", priority, NOT, group="dependent rule", variant="last",
                                dependent_rule="last", stop_reason="stalled")]
    baselines = [baseline_row("hanoi", family, f, t) for family, taus in
                 (("HIMO", (1.0, tau)), ("gradient", (0.5, 0.6)), ("softmax", (0.3, "")))
                 for f, t in zip((0.9, 0.97), taus)]
    return Results(claims=claims, robustness=rows, baselines=baselines)


def write_tables(results: Results, folder: Path) -> list[str]:
    paths = [folder / "claims.json", folder / "robustness.csv", folder / "baselines.csv"]
    paths[0].write_text(json.dumps(results.claims))
    for path, rows, columns in ((paths[1], results.robustness, ROBUSTNESS_COLUMNS),
                                (paths[2], results.baselines, TABLE_COLUMNS)):
        with open(path, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=columns)
            writer.writeheader()
            writer.writerows(rows)
    return [str(p) for p in paths]


# --------------------------------------------------------------- the findings
def test_describe_by_foresight_groups_consecutive_verdicts():
    pairs = [(0.95, PARTLY), (0.8, NOT), (0.97, REPLICATED), (0.85, NOT), (0.99, REPLICATED)]
    assert describe_by_foresight(pairs) == "not replicated at 0.8-0.85, partly at 0.95, replicated at 0.97-0.99"
    assert describe_by_foresight([(0.9, REPLICATED)]) == "replicated at 0.9"


def test_moved_verdicts_are_the_variants_that_differ_from_their_main_run():
    moved = replication.moved_verdicts(make_results(), replication.HIMO_GROUPS)
    assert [(m["claim"], m["group"], m["variant"], m["main"], m["verdict"]) for m in moved] == [
        ("G1", "dependent rule", "last", PARTLY, NOT)]


def test_priority_disagreements_compare_the_same_run_under_both_definitions():
    found = replication.priority_disagreements(make_results())
    assert [(d["claim"], d["env_key"], d["paper"], d["alternative"]) for d in found] == [
        ("H2", "hanoi-0.97", REPLICATED, PARTLY)]


# ------------------------------------------------------------------ the report
def summary_verdicts(report: str) -> dict[str, str]:
    """Claim -> verdict, read back from the summary's table."""
    summary = replication.readme_summary(report)
    return {m.group(1): m.group(2) for m in re.finditer(r"^\| (\w+) \| [^|]+ \| [^|]+ \| \*\*([^*]+)\*\* \|",
                                                         summary, re.M)}


def test_the_report_states_every_verdict_as_claims_json_does():
    results = make_results()
    report = replication.replication_markdown(results, VERSIONS)
    assert summary_verdicts(report) == {claim: record["verdict"] for claim, record in results.claims.items()}
    assert list(summary_verdicts(report)) == ["H1", "H2", "G1"]  # the registry's order


def test_the_report_reads_its_numbers_from_the_tables():
    """A number or a verdict changed in the tables changes the report: none is typed in."""
    base = replication.replication_markdown(make_results(), VERSIONS)
    assert "| HIMO | 1.00 | 0.42 |" in base
    assert "hanoi: not replicated at 0.9, replicated at 0.97" in base
    other = replication.replication_markdown(make_results(h2_at_0_97=PARTLY, tau=0.17), VERSIONS)
    assert "| HIMO | 1.00 | 0.17 |" in other and "0.42" not in other
    assert "hanoi: not replicated at 0.9, partly at 0.97" in other


def test_the_report_names_what_moves_and_what_does_not():
    report = replication.replication_markdown(make_results(), VERSIONS)
    assert "the verdicts of H2 (hanoi) depend" in report  # the foresight moves H2 only
    assert "| G1 | hanoi | dependent rule | last | partly replicated | not replicated |" in report
    assert "hanoi-last stopped as `stalled` (G1 not replicated)" in report
    assert "3 reached states are not deterministic, the least 012 at probability 0.5" in report
    assert "gives another verdict on 1 of the 7 judgements" in report
    assert "softmax 0.30 to 0.30" in report  # an empty tau (NaN) is left out of the range


def test_the_mechanism_section_compares_each_reference_order_with_the_dp_order():
    report = replication.replication_markdown(make_results(), VERSIONS)
    mechanism = report.split("## The mechanism")[1].split("\n## ")[0]
    assert "| hanoi | the DP order (distance to the goal) | 1.00 | 0.42 |" in mechanism
    assert "Against the DP order: hanoi 1.00 at 0.9 to 0.42 at 0.97." in mechanism
    assert "the same tau as against the DP order on 1 of the 2 HIMO runs, a higher one on 1, a lower one on 0." in mechanism
    prior = dict(replication.REFERENCE_ORDERS)["kendall_tau_prior"]
    assert f"| hanoi | {prior} |" in mechanism  # a column of results/baselines.csv
    results = make_results()
    for row in results.baselines:
        del row["kendall_tau_prior"]
    assert prior not in replication.replication_markdown(results, VERSIONS)  # a column the table lacks


def test_the_title_says_whether_every_claim_replicated():
    results = make_results()
    assert replication.title(results).startswith("[¬Re] ")
    for record in results.claims.values():
        record["verdict"] = REPLICATED
    assert replication.title(results).startswith("[Re] ")


def test_the_report_links_files_that_the_workflow_writes():
    """Every file the report links (figures, tables, docs) is an output of the workflow or in the repository."""
    report = replication.replication_markdown(make_results(), VERSIONS, ("figures/fig1.png",))
    workflow = "\n".join(p.read_text() for p in (REPO / "workflow/rules").glob("*.smk"))
    links = re.findall(r"\]\(\.\./([^)]+)\)", report)
    assert "figures/fig1.png" in links  # a figure given is shown
    for link in links:
        assert f'"{link}"' in workflow or link == "figures/fig1.png", link
    for doc in re.findall(r"\bdocs/\w+\.md", report):
        assert (REPO / doc).is_file(), doc
    for test in re.findall(r"(tests/[\w/]+\.py)::(\w+)", report):
        assert f"def {test[1]}(" in (REPO / test[0]).read_text(), test


def test_metadata_is_rescience_yaml_with_the_journal_fields_empty():
    meta = yaml.safe_load(replication.metadata_yaml(make_results()))
    assert meta["type"] == "Replication" and meta["title"].startswith("[¬Re] Hierarchical")
    assert {"url": replication.ORIGINAL["url"]} in meta["replication"]
    assert {"doi": replication.ORIGINAL["doi"]} in meta["replication"]
    assert all(next(iter(entry.values())) is None for entry in meta["article"] + meta["dates"])
    assert {"volume": None} in meta["journal"] and {"name": "ReScience C"} in meta["journal"]
    assert "3 of 3 claims" not in meta["abstract"] and "1 of 3 claims are replicated (H1)" in meta["abstract"]


# ------------------------------------------------------------------- the command
def test_command_writes_both_files_and_the_same_bytes_twice(tmp_path):
    tables = write_tables(make_results(), tmp_path)
    outputs = []
    for run in ("a", "b"):
        md, meta = tmp_path / f"{run}.md", tmp_path / f"{run}.yaml"
        assert main(["replication", *tables, "--md", str(md), "--metadata", str(meta)]) == 0
        outputs.append((md.read_bytes(), meta.read_bytes()))
    assert outputs[0] == outputs[1]
    assert summary_verdicts(outputs[0][0].decode()) == {"H1": REPLICATED, "H2": NOT, "G1": PARTLY}


def test_a_missing_table_is_one_error_and_no_output(tmp_path, capsys):
    tables = write_tables(make_results(), tmp_path)
    tables[2] = str(tmp_path / "missing.csv")
    md, meta = (tmp_path / "report").with_suffix(".md"), tmp_path / "r.yaml"
    assert main(["replication", *tables, "--md", str(md), "--metadata", str(meta)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("himo: error: ") and "missing.csv" in err and err.count("\n") == 1
    assert not md.exists() and not meta.exists()


# -------------------------------------------------------------- the README's copy
def test_readme_summary_round_trip():
    report = replication.replication_markdown(make_results(), VERSIONS)
    summary = replication.readme_summary(report)
    readme = f"# x\n\n{replication.README_START}\nold text\n{replication.README_END}\n\nafter\n"
    updated = replication.replace_readme_summary(readme, summary)
    assert summary in updated and "old text" not in updated and updated.endswith("\n\nafter\n")
    assert replication.replace_readme_summary(updated, summary) == updated
    with pytest.raises(ValueError, match="no replication summary"):
        replication.replace_readme_summary("# no marks\n", summary)


def test_the_readme_carries_a_summary_between_the_marks():
    """The README's Results section holds the report's summary (`make readme` writes it)."""
    readme = (REPO / "README.md").read_text()
    assert readme.count(replication.README_START) == 1 and readme.count(replication.README_END) == 1
    block = readme.split(replication.README_START)[1].split(replication.README_END)[0]
    assert "claims are replicated" in block and "| H2 |" in block


def test_a_choice_no_variant_varies_reads_every_main_run():
    """The summary names the main runs' form of E although no run of the atlas varies it."""
    summary = replication.summary_markdown(make_results())
    assert "E with the factor lambda, the erratum corrected" in summary and "foresight 0.9," in summary
