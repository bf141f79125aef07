"""The replication report (``himo replication``): its findings (:mod:`himo.verdicts.findings`),
their wording (:mod:`himo.verdicts.replication`, the templates) and the README's copy (``himo readme``).

The tables are made by hand here with exactly the columns the workflow writes
(:data:`~himo.verdicts.robustness.ROBUSTNESS_COLUMNS`,
:data:`~himo.verdicts.baselines.TABLE_COLUMNS`), so a column the findings read that the
tables do not have fails; the workflow test (tests/workflow) writes the report from a
real run. The findings are tested as data; the rendered report for its structure (its
sections, its tables, its links, every verdict), not for its sentences.
"""

from __future__ import annotations

import fnmatch
import json
import re
import tomllib
from dataclasses import replace
from importlib import resources
from pathlib import Path

import pytest
import yaml

from himo.cli import main
from himo.io import csv_text
from himo.verdicts import claims as registry
from himo.verdicts import findings as F
from himo.verdicts import replication
from himo.verdicts.baselines import TABLE_COLUMNS
from himo.verdicts.judging import Discussion
from himo.verdicts.lift import LIFT_COLUMNS
from himo.verdicts.robustness import ROBUSTNESS_COLUMNS
from himo.verdicts.vocabulary import MISSING, NOT, PARTLY, REPLICATED, VERDICT_LETTERS

REPO = Path(__file__).resolve().parents[2]
VERSIONS = {"python_version": "3.11.7", "himo_version": "0.1.0"}
SECTIONS = ["Summary", "Conclusion", "Introduction", "Methods", "Results", "The robustness atlas", "Baselines", "The mechanism",
            "Discussion", "Reproducing this report", "Software", "References"]


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


def lift_row(run, family, foresight, state, lift, tied=False):
    """A row of results/bottleneck_lift.csv of a compared run on hanoi."""
    row = dict.fromkeys(LIFT_COLUMNS, "")
    row.update(run=run, method={"HIMO": "natural"}.get(family, family), family=family, foresight=str(foresight),
               paper_env="hanoi", compared="true", state=state, role="bridge", on_path="true", priority="1",
               dp_rank="3", rank="3", lift=str(lift), tied="true" if tied else "false", stop_reason="converged")
    return row


def lift_rows(sign=1):
    """HIMO lifts 011 by 2 at 0.97 (and defers 211 by 1); the gradient lifts 011 by 3, tied."""
    return [lift_row("hanoi", "HIMO", 0.9, "011", 0), lift_row("hanoi", "HIMO", 0.9, "211", 0),
            lift_row("hanoi-0.97", "HIMO", 0.97, "011", 2 * sign), lift_row("hanoi-0.97", "HIMO", 0.97, "211", -sign),
            lift_row("hanoi-gradient-0.9", "gradient", 0.9, "011", 3, tied=True),
            lift_row("hanoi-gradient-0.9", "gradient", 0.9, "211", 0)]


def claim_record(claim, verdict, figure="1"):
    return {"id": claim, "figure": figure, "statement": f"the paper's words for {claim}", "verdict": verdict,
            "verdict_by_priority": {"peak": verdict, "half": verdict}, "numbers": {}, "definition": "..."}


def make_tables(h2_at_0_97=REPLICATED, tau=0.42, lift_sign=1) -> F.Tables:
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
    return F.Tables(claims=claims, robustness=rows, baselines=baselines, lift=lift_rows(lift_sign))


def write_tables(tables: F.Tables, folder: Path) -> list[str]:
    """The tables as the workflow writes them (himo.io.csv_text for the CSV ones)."""
    paths = [folder / "claims.json", folder / "robustness.csv", folder / "baselines.csv", folder / "lift.csv"]
    paths[0].write_text(json.dumps(tables.claims))
    paths[1].write_text(csv_text(tables.robustness, ROBUSTNESS_COLUMNS))
    paths[2].write_text(csv_text(tables.baselines, TABLE_COLUMNS))
    paths[3].write_text(csv_text(tables.lift, LIFT_COLUMNS))
    return [str(p) for p in paths]


def report_of(tables: F.Tables, figures=()) -> str:
    return replication.replication_markdown(F.findings(tables), VERSIONS, figures)


# ------------------------------------------------------------ reading Markdown
def sections(report: str) -> dict[str, str]:
    """``{## heading: its text}``, in order."""
    parts = re.split(r"^## (.+)\n", report, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def tables_of(text: str) -> list[list[list[str]]]:
    """The Markdown tables of a text, each a list of rows (the header first, the rule left out) of cells."""
    found, current = [], None
    for line in text.splitlines():
        if line.startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            if current is None:
                current = []
                found.append(current)
            if not set("".join(cells)) <= set("-"):
                current.append(cells)
        else:
            current = None
    return found


# --------------------------------------------------------------- the findings
def test_stretches_group_consecutive_verdicts():
    pairs = [(0.95, PARTLY), (0.8, NOT), (0.97, REPLICATED), (0.85, NOT), (0.99, REPLICATED)]
    assert F.stretches(pairs) == [F.Stretch([0.8, 0.85], NOT), F.Stretch([0.95], PARTLY),
                                  F.Stretch([0.97, 0.99], REPLICATED)]
    assert F.stretches([(0.9, REPLICATED)]) == [F.Stretch([0.9], REPLICATED)]


def test_findings_state_every_claim_in_the_registrys_order():
    found = F.findings(make_tables())
    assert [(c.id, c.verdict) for c in found.claims] == [("H1", REPLICATED), ("H2", NOT), ("G1", PARTLY)]
    assert found.verdicts == {REPLICATED: ["H1"], NOT: ["H2"], PARTLY: ["G1"]}
    h2 = found.claims[1]
    assert h2.profiles == [("hanoi", [F.Stretch([0.9], NOT), F.Stretch([0.97], REPLICATED)])]
    assert h2.alternative_verdicts == [NOT]
    assert h2.rests_on == [("hanoi", [("subject", "s1"), ("priority", 1.5), ("rival", "007"),
                                      ("rival's priority", 2.5), ("margin", 1.0)])]
    assert found.figures == ["1", "all"] and not found.all_replicated
    assert found.summaries == [(c.id, c.summary) for c in registry.CLAIMS if c.id in ("H1", "H2", "G1")]


def test_findings_change_with_the_tables():
    """A tau or a verdict changed in the tables changes the findings: none is typed in."""
    base, other = F.findings(make_tables()), F.findings(make_tables(h2_at_0_97=PARTLY, tau=0.17))
    himo = {env: table.rows[0] for env, table in base.baselines.tau_tables}["hanoi"]
    assert himo == (["HIMO"], [1.0, 0.42])
    assert {env: table.rows[0] for env, table in other.baselines.tau_tables}["hanoi"] == (["HIMO"], [1.0, 0.17])
    assert base.mechanism.trends == [F.TauTrend("hanoi", 1.0, "0.9", 0.42, "0.97")]
    assert other.mechanism.trends[0].last == 0.17
    assert dict(base.baselines.tau_ranges[0][1])["HIMO"] == (0.42, 1.0)
    assert other.claims[1].profiles == [("hanoi", [F.Stretch([0.9], NOT), F.Stretch([0.97], PARTLY)])]
    assert base.atlas.verdicts[1] == ("H2", "hanoi", [NOT, REPLICATED])
    assert other.atlas.verdicts[1] == ("H2", "hanoi", [NOT, PARTLY])


def test_moved_verdicts_are_the_variants_that_differ_from_their_main_run():
    moved = F.moved_verdicts(make_tables(), F.HIMO_GROUPS)
    assert moved == [F.MovedVerdict("G1", "hanoi", "dependent rule", "last", PARTLY, NOT)]
    found = F.findings(make_tables())
    assert found.atlas.moved == moved and found.moved_groups == [("dependent rule", "G1")]
    assert found.foresight_sensitive == [("H2", "hanoi")]  # the foresight moves H2 only


def test_priority_disagreements_compare_the_same_run_under_both_definitions():
    found = F.priority_disagreements(make_tables())
    assert [(d.claim, d.env_key, d.paper, d.alternative) for d in found] == [("H2", "hanoi-0.97", REPLICATED, PARTLY)]
    atlas = F.findings(make_tables()).atlas
    assert atlas.disagreements_by_group == {"foresight": 1} and atlas.n_judgements == 7 and atlas.n_runs == 4
    assert atlas.foresights == [0.9, 0.97]


def test_baselines_findings_leave_a_missing_tau_out():
    found = F.findings(make_tables()).baselines
    assert dict(found.tau_ranges[0][1]) == {"HIMO": (0.42, 1.0), "gradient": (0.5, 0.6), "softmax": (0.3, 0.3)}
    softmax = found.tau_tables[0][1].rows[2][1]
    assert softmax[0] == 0.3 and softmax[1] != softmax[1]  # NaN: a run without a tau
    assert [(c.family, c.n_runs, c.not_converged) for c in found.convergence] == [
        ("HIMO", 2, []), ("gradient", 2, []), ("softmax", 2, [])]


def test_mechanism_compares_each_reference_order_with_the_dp_order():
    mechanism = F.findings(make_tables()).mechanism
    assert [(c.column, c.same, c.higher, c.lower) for c in mechanism.comparisons] == [
        ("kendall_tau_gap", 1, 1, 0), ("kendall_tau_prior", 0, 0, 0)]  # prior: empty cells, no run compared
    assert [names for names, _ in mechanism.taus.rows] == [["hanoi", name] for _, name in F.REFERENCE_ORDERS]
    tables = make_tables()
    for row in tables.baselines:
        del row["kendall_tau_prior"]
    assert "kendall_tau_prior" not in [c.column for c in F.findings(tables).mechanism.comparisons]


def test_taus_within_the_tolerance_are_the_same():
    from himo.tolerances import TAU_ATOL

    assert F.compare_taus([(0.5, 0.5 + TAU_ATOL / 2), (0.5, 0.6), (0.5, 0.4), (0.5, float("nan"))]) == (1, 1, 1)


def test_a_choice_no_variant_varies_reads_every_main_run():
    """The main runs' form of E is found although no run of the atlas varies it."""
    found = F.findings(make_tables())
    assert found.main_choices == {"foresight": "0.9", "step": "0.1", "dependent_rule": "argmax", "e_form": "exact"}
    choices = {c.name: (c.main, c.judged) for c in found.choices}
    assert choices["step size alpha"] == (["0.1"], ["0.1", "1"])
    assert choices["reward convention"] == (["goal 1, step 0"], ["goal 1, step 0"])


def test_the_claims_own_discussions_read_the_tables():
    """G1's paragraphs (a fixed dependent action, the ties) are G1's: its Discussion objects read them."""
    found = F.findings(make_tables())
    assert [(d.claim, d.template) for d in found.discussions] == [
        ("G1", "discussion-fixed-dependent.j2"), ("G1", "discussion-ties.j2")]
    fixed, ties = (d.facts for d in found.discussions)
    assert fixed == {"runs": [{"env_key": "hanoi-last", "stop_reason": "stalled", "verdict": NOT}], "stalled": True}
    assert ties == {"verdict": PARTLY, "n_runs": 1, "n_optimal": 1, "ties": [
        {"env": "hanoi", "n_not_deterministic": 3, "state": "012", "probability": 0.5}]}
    tables = make_tables()
    for row in tables.robustness:
        if row["group"] == "dependent rule":
            row["stop_reason"] = "converged"
    fixed = F.findings(tables).discussions[0].facts
    assert not fixed["stalled"] and fixed["runs"][0]["stop_reason"] == "converged"
    del tables.claims["G1"]
    assert F.findings(F.Tables(tables.claims, [r for r in tables.robustness if r["claim"] != "G1"],
                               tables.baselines, tables.lift)).discussions == []


def test_a_new_claims_discussion_reaches_the_report_without_changing_the_report(monkeypatch):
    """A claim added to the registry with a Discussion: its paragraph is in the report."""
    said = {"verdict": "shown", "n_runs": 7, "n_optimal": 5, "ties": []}
    extra = replace(registry.H1, id="X9", discussion=(Discussion("discussion-ties.j2", lambda t, c: said),))
    monkeypatch.setattr(registry, "CLAIMS", registry.CLAIMS + (extra,))
    tables = make_tables()
    tables.claims["X9"] = claim_record("X9", REPLICATED)
    discussion = sections(report_of(tables))["Discussion"]
    assert "X9" in discussion and "shown" in discussion and "5 of 7" in discussion


# ------------------------------------------------------------------ the report
def summary_verdicts(report: str) -> dict[str, str]:
    """Claim -> verdict, read back from the summary's table."""
    table = tables_of(replication.report_section(report, "Summary"))[0]
    return {row[0]: re.match(r"\*\*(.+?)\*\*", row[3]).group(1) for row in table[1:]}


def test_the_report_has_its_sections_in_order_and_well_formed_tables():
    report = report_of(make_tables(), ("figures/fig1.png",))
    assert report.startswith("# [¬Re] ") and report.endswith("\n") and not report.endswith("\n\n")
    assert list(sections(report)) == SECTIONS
    for table in tables_of(report):
        assert len({len(row) for row in table}) == 1, table  # as many cells as the header, every row
    assert all(text.strip() for text in sections(report).values())


def test_the_report_states_every_verdict_as_claims_json_does():
    tables = make_tables()
    report = report_of(tables)
    assert summary_verdicts(report) == {claim: record["verdict"] for claim, record in tables.claims.items()}
    assert list(summary_verdicts(report)) == ["H1", "H2", "G1"]  # the registry's order
    results = tables_of(sections(report)["Results"])[0]
    assert {row[0]: row[2].strip("*") for row in results[1:]} == summary_verdicts(report)


def test_the_atlas_table_is_the_findings_verdicts_in_letters():
    tables = make_tables()
    atlas = tables_of(sections(report_of(tables))["The robustness atlas"])[0]
    assert atlas[0] == ["claim", "environment", "0.9", "0.97"]
    letter = VERDICT_LETTERS
    assert atlas[1:] == [["H1", "hanoi", letter[REPLICATED], letter[REPLICATED]],
                         ["H2", "hanoi", letter[NOT], letter[REPLICATED]],
                         ["G1", "hanoi", letter[PARTLY], MISSING]]  # G1 has no run at 0.97


def test_a_changed_table_changes_the_report():
    assert report_of(make_tables()) != report_of(make_tables(tau=0.17))
    assert report_of(make_tables()) != report_of(make_tables(h2_at_0_97=PARTLY))


def test_the_conclusion_follows_the_lift_table():
    """Flipping the lift table flips what the conclusion says HIMO moves ahead and defers,
    and its lift table; the summary's together-sentence reads the bottleneck claims."""
    lifted = sections(report_of(make_tables()))["Conclusion"]
    flipped = sections(report_of(make_tables(lift_sign=-1)))["Conclusion"]
    assert lifted != flipped
    assert "HIMO moves 011 ahead of the DP order at 0.97" in lifted and "defers 211 at 0.97" in lifted
    assert "HIMO moves 211 ahead of the DP order at 0.97" in flipped and "defers 011 at 0.97" in flipped
    (table,) = tables_of(lifted)[1:]  # after the nulls' table
    assert table[0] == ["hanoi", "0.9", "0.97"] and table[1] == ["HIMO", "0", "+1"] and table[2] == ["gradient", "+3*", ""]
    assert tables_of(flipped)[1][1] == ["HIMO", "0", "-1"]


def test_the_conclusion_answers_the_natural_gradient_question_from_n1():
    tables = make_tables()
    assert "Not judged" in sections(report_of(tables))["Conclusion"]
    tables.claims["N1"] = claim_record("N1", NOT, "Discussion")
    tables.claims["N1"]["numbers"] = {"runs": {"hanoi": {"pairs_reversed": 0, "pairs_alike": 27,
                                                         "median_relative_priority_difference": 0.05}}}
    same = sections(report_of(tables))["Conclusion"]
    assert "**Is HIMO distinct from the state-averaged natural gradient?** No" in same and "0 of the 27" in same
    tables.claims["N1"]["verdict"] = REPLICATED
    tables.claims["N1"]["numbers"]["runs"]["hanoi"]["pairs_reversed"] = 4
    assert "**Is HIMO distinct from the state-averaged natural gradient?** Yes" in sections(report_of(tables))[
        "Conclusion"]


def test_the_readme_carries_the_summary_and_the_conclusion():
    report = report_of(make_tables())
    carried = replication.readme_summary(report)
    assert carried.startswith(sections(report)["Summary"].strip()) and "\n### Conclusion\n" in carried
    assert carried.endswith(sections(report)["Conclusion"].strip().replace("](../", "]("))
    assert "](../" not in carried  # the README is at the root: its links lead from there


def test_the_title_says_whether_every_claim_replicated():
    tables = make_tables()
    assert replication.title(F.findings(tables)).startswith("[¬Re] ")
    for record in tables.claims.values():
        record["verdict"] = REPLICATED
    assert replication.title(F.findings(tables)).startswith("[Re] ")


def test_the_report_links_files_that_the_workflow_writes():
    """Every file the report links (figures, tables, docs) is an output of the workflow or in the repository."""
    report = report_of(make_tables(), ("figures/fig1.png",))
    workflow = "\n".join(p.read_text() for p in (REPO / "workflow/rules").glob("*.smk"))
    links = re.findall(r"\]\(\.\./([^)]+)\)", report)
    assert "figures/fig1.png" in links  # a figure given is shown
    for link in links:
        assert f'"{link}"' in workflow or link == "figures/fig1.png", link
    for table in re.findall(r"\bresults/\w+\.\w+", report):
        assert f'"{table}"' in workflow, table
    for doc in re.findall(r"\bdocs/\w+\.md", report):
        assert (REPO / doc).is_file(), doc
    for test in re.findall(r"(tests/[\w/]+\.py)::(\w+)", report):
        assert f"def {test[1]}(" in (REPO / test[0]).read_text(), test


def test_metadata_is_rescience_yaml_with_the_journal_fields_empty():
    found = F.findings(make_tables())
    text = replication.metadata_yaml(found)
    meta = yaml.safe_load(text)
    assert meta == replication.metadata(found) and text.startswith(replication.METADATA_HEADER)
    assert meta["type"] == "Replication" and meta["title"] == replication.title(found)
    assert {"url": replication.ORIGINAL["url"]} in meta["replication"]
    assert {"doi": replication.ORIGINAL["doi"]} in meta["replication"]
    assert all(next(iter(entry.values())) is None for entry in meta["article"] + meta["dates"])
    assert {"volume": None} in meta["journal"] and {"name": "ReScience C"} in meta["journal"]
    assert meta["abstract"].endswith(replication.summary_markdown(found).split("\n")[0])


def test_the_templates_are_package_data():
    """Every template is installed with the package (pyproject's package-data) and found by the loader."""
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["himo"]
    templates = [p for p in resources.files("himo.verdicts.templates").iterdir() if p.name.endswith(".j2")]
    assert {"replication.j2", "summary.j2", "claims.j2"} <= {p.name for p in templates}
    for template in templates:
        assert any(fnmatch.fnmatch(f"verdicts/templates/{template.name}", pattern) for pattern in patterns)


# ------------------------------------------------------------------- the command
def test_command_writes_both_files_and_the_same_bytes_twice(tmp_path):
    tables = write_tables(make_tables(), tmp_path)
    outputs = []
    for run in ("a", "b"):
        md, meta = tmp_path / f"{run}.md", tmp_path / f"{run}.yaml"
        assert main(["replication", *tables, "--md", str(md), "--metadata", str(meta)]) == 0
        outputs.append((md.read_bytes(), meta.read_bytes()))
    assert outputs[0] == outputs[1]
    assert summary_verdicts(outputs[0][0].decode()) == {"H1": REPLICATED, "H2": NOT, "G1": PARTLY}
    assert summary_verdicts(report_of(F.Tables.read(*tables))) == summary_verdicts(outputs[0][0].decode())


@pytest.mark.parametrize("broken", [0, 2, 3])
def test_a_missing_table_is_one_error_and_no_output(tmp_path, capsys, broken):
    tables = write_tables(make_tables(), tmp_path)
    tables[broken] = str(tmp_path / "missing.file")
    md, meta = (tmp_path / "report").with_suffix(".md"), tmp_path / "r.yaml"
    assert main(["replication", *tables, "--md", str(md), "--metadata", str(meta)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("himo: error: ") and "missing.file" in err and err.count("\n") == 1
    assert not md.exists() and not meta.exists()


# -------------------------------------------------------------- the README's copy
README = f"# x\n\n{replication.README_START}\nold text\n{replication.README_END}\n\nafter\n"


def test_readme_round_trip(tmp_path, capsys):
    """`himo readme` (make readme) copies the summary between the marks; `--check` then finds it current,
    and after a rerun with other results says so without writing."""
    tables = write_tables(make_tables(), tmp_path)
    report, readme = tmp_path / "the-report", tmp_path / "README.md"
    readme.write_text(README)
    assert main(["replication", *tables, "--md", str(report), "--metadata", str(tmp_path / "m.yaml")]) == 0
    assert main(["readme", str(report), str(readme)]) == 0
    text = readme.read_text()
    summary = replication.readme_summary(report.read_text())
    assert f"{replication.README_START}\n{summary}\n{replication.README_END}" in text
    assert "old text" not in text and text.startswith("# x\n\n") and text.endswith("\n\nafter\n")
    capsys.readouterr()
    assert main(["readme", "--check", str(report), str(readme)]) == 0
    assert capsys.readouterr().err == "" and readme.read_text() == text
    tables = write_tables(make_tables(tau=0.17), tmp_path)
    assert main(["replication", *tables, "--md", str(report), "--metadata", str(tmp_path / "m.yaml")]) == 0
    assert main(["readme", "--check", str(report), str(readme)]) == 0
    assert "differs" in capsys.readouterr().err and readme.read_text() == text  # --check writes nothing
    assert main(["readme", str(report), str(readme)]) == 0 and readme.read_text() != text


def test_readme_errors_are_one_line(tmp_path, capsys):
    report, readme = tmp_path / "the-report", tmp_path / "README.md"
    report.write_text(report_of(make_tables()))
    readme.write_text("# no marks\n")
    assert main(["readme", str(report), str(readme)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("himo: error: ") and "README.md" in err and err.count("\n") == 1
    assert readme.read_text() == "# no marks\n"
    readme.write_text(README)
    report.write_text("# not a report\n")
    assert main(["readme", str(report), str(readme)]) == 2
    assert "the-report" in capsys.readouterr().err and readme.read_text() == README


def test_the_readme_carries_a_summary_between_the_marks():
    """The README's Results section holds a report's summary (`make readme` writes it)."""
    readme = (REPO / "README.md").read_text()
    assert readme.count(replication.README_START) == 1 and readme.count(replication.README_END) == 1
    block = readme.split(replication.README_START)[1].split(replication.README_END)[0]
    assert set(summary_verdicts(f"## Summary\n{block}\n## End\n")) == {claim.id for claim in registry.CLAIMS}


def test_resolution_findings_name_the_runs_that_are_mostly_ties():
    tables = make_tables()
    for row in tables.baselines:
        row["resolved_pairs"] = "0.3" if row["family"] == "softmax" else "0.9"
        row["agree_with_himo"] = "1" if row["family"] == "HIMO" else "0.5"
    found = {r.family: r for r in F.resolution_findings(tables, ["HIMO", "gradient", "softmax"])}
    assert found["softmax"].mostly_tied == ["hanoi-softmax-0.9", "hanoi-softmax-0.97"]
    assert found["gradient"].mostly_tied == [] and found["gradient"].agree == (0.5, 0.5)
    assert found["HIMO"].resolved == (0.9, 0.9)
    baselines = sections(report_of(tables))["Baselines"]
    assert "mostly ties" in baselines and "hanoi-softmax-0.9" in baselines
