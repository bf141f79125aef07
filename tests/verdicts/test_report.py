"""The claims written out (himo.verdicts.report): results/claims.md from a judgement, and
docs/CLAIMS.md, the registry written out (``himo claims-doc``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from himo.cli import main
from himo.verdicts import claims as C
from himo.verdicts import judging as J
from himo.verdicts import report
from himo.verdicts import robustness as R
from himo.verdicts.claims import CLAIMS
from himo.verdicts.judging import SUMMARY_FIELDS, VERDICTS, VOCABULARY
from himo.verdicts.vocabulary import NOT, PARTLY, REPLICATED, VERDICT_LETTERS
from test_replication import sections, tables_of
from test_robustness import atlas_runs

ROOT = Path(__file__).resolve().parents[2]
CLAIMS_MD = ROOT / "docs/CLAIMS.md"


# ---------------------------------------------------------------- docs/CLAIMS.md
def test_docs_claims_md_is_the_registry():
    assert CLAIMS_MD.read_text() == report.claims_reference(), (
        "docs/CLAIMS.md is stale: regenerate it with `.venv/bin/himo claims-doc docs/CLAIMS.md`")


def test_claims_doc_command_writes_the_reference(tmp_path):
    out = tmp_path / "reference"
    assert main(["claims-doc", str(out)]) == 0
    assert out.read_text() == report.claims_reference()
    assert "`himo claims-doc docs/CLAIMS.md`" in out.read_text()  # the header says how it is made


def test_reference_holds_every_claim_verdict_and_word():
    text = report.claims_reference()
    for claim in CLAIMS:
        assert f"### {claim.id} (Fig. {claim.figure})" in text
        assert claim.paper_text in text and claim.definition in text and claim.runs.describe(claim) in text
    for verdict in VERDICTS:
        assert f"- **{verdict}**:" in text
    for term, meaning in VOCABULARY.items():
        assert f"- **{term}**: {meaning}" in text
    for name in SUMMARY_FIELDS:
        assert f"- **{name}**:" in text
    registry = tables_of(text)[0]
    assert [row[0] for row in registry[1:]] == [claim.id for claim in CLAIMS]


def test_claim_texts_cite_only_files_of_the_repository():
    texts = [report.claims_reference(), *(c.definition + c.paper_text for c in CLAIMS)]
    for text in texts:
        assert "spec/" not in text and "PAPER-TARGETS" not in text
        for cited in re.findall(r"[\w./-]+\.md\b", text):
            if cited.startswith("results/"):  # written by the pipeline
                continue
            assert (ROOT / cited).is_file(), cited


# ------------------------------------------------------------- results/claims.md
@pytest.fixture(scope="module")
def judged():
    """The records of the claims on the atlas' runs (a main run and variants of one environment)."""
    return J.evaluate_claims(C.CLAIMS, atlas_runs())


def test_verdict_lines_rest_on_the_main_runs_summary(judged):
    rows = R.robustness_table(judged, C.CLAIMS)
    lines = {line.claim: line for line in report.verdict_lines(judged, rows)}
    assert list(lines) == list(judged)
    h2 = lines["H2"]
    assert (h2.run, h2.verdict, h2.alternative_verdicts) == ("hanoi", judged["H2"]["verdict"],
                                                             [judged["H2"]["verdict_by_priority"]["half"]])
    main = next(r for r in rows if (r["claim"], r["env_key"], r["priority"]) == ("H2", "hanoi", "peak"))
    assert h2.rests_on == [(None, [(name, main[name]) for name in SUMMARY_FIELDS if name in main])]
    assert lines["W1"].rests_on == [] and lines["W1"].run == "-"  # no wormhole run: nothing to rest on


def test_group_tables_give_the_alternative_verdict_where_it_differs():
    rows = [{"claim": "H2", "paper_env": "hanoi", "group": group, "variant": variant, "priority": priority,
             "verdict": verdict, "foresight": 0.9}
            for group, variant, priority, verdict in (
                ("main", "main", "peak", NOT), ("main", "main", "half", NOT),
                ("step", "1", "peak", PARTLY), ("step", "1", "half", REPLICATED),
                ("step", "0.3", "peak", NOT), ("step", "0.3", "half", NOT))]
    (table,) = report.robustness_tables(rows)
    assert table.title == "step" and table.header == ["claim", "environment", "main", "1", "0.3"]
    assert table.lines == [(["H2", "hanoi"], [[NOT], [PARTLY, REPLICATED], [NOT]])]


def test_claims_markdown_has_its_sections_and_every_verdict(judged):
    text = report.claims_markdown(judged)
    assert text.startswith("# Claims of the paper and their verdicts\n") and text.endswith("```\n")
    headings = list(sections(text))
    assert headings[:2] == ["Verdicts at the paper's settings", "Robustness: every claim on every variant"]
    assert headings[2:] == [f"{cid} (Fig. {r['figure']}): {r['verdict']}" for cid, r in judged.items()]
    verdicts = tables_of(sections(text)["Verdicts at the paper's settings"])[0]
    assert {row[0]: row[3].strip("*") for row in verdicts[1:]} == {cid: r["verdict"] for cid, r in judged.items()}
    for table in tables_of(text):
        assert len({len(row) for row in table}) == 1, table
    robustness = tables_of(sections(text)["Robustness: every claim on every variant"])
    letters = {cell for table in robustness for row in table[1:] for cell in row[3 if table[0][2] == "method" else 2:]}
    assert letters - {""} <= {"/".join(pair) for pair in (
        [a] if a == b else [a, b] for a in VERDICT_LETTERS.values() for b in VERDICT_LETTERS.values())}


def test_claims_markdown_changes_with_the_verdicts(judged):
    other = {cid: dict(r) for cid, r in judged.items()}
    other["H1"] = {**other["H1"], "verdict": NOT if judged["H1"]["verdict"] != NOT else REPLICATED}
    assert report.claims_markdown(other) != report.claims_markdown(judged)
    assert report.claims_markdown(judged) == report.claims_markdown(judged)
