"""docs/CLAIMS.md is the registry written out (himo.verdicts.report.claims_reference)."""

from __future__ import annotations

import re
from pathlib import Path

from himo.verdicts import report
from himo.verdicts.claims import CLAIMS
from himo.verdicts.judging import VERDICTS, VOCABULARY

ROOT = Path(__file__).resolve().parents[2]
CLAIMS_MD = ROOT / "docs/CLAIMS.md"


def test_docs_claims_md_is_the_registry():
    assert CLAIMS_MD.read_text() == report.claims_reference(), (
        "docs/CLAIMS.md is stale: regenerate it with `.venv/bin/python -m himo.verdicts.report docs/CLAIMS.md`")


def test_reference_holds_every_claim_verdict_and_word():
    text = report.claims_reference()
    for claim in CLAIMS:
        assert f"### {claim.id} (Fig. {claim.figure})" in text
        assert claim.paper_text in text and claim.definition in text
    for verdict in VERDICTS:
        assert f"- **{verdict}**:" in text
    for term, meaning in VOCABULARY.items():
        assert f"- **{term}**: {meaning}" in text


def test_claim_texts_cite_only_files_of_the_repository():
    texts = [report.claims_reference(), *(c.definition + c.paper_text for c in CLAIMS)]
    for text in texts:
        assert "spec/" not in text and "PAPER-TARGETS" not in text
        for cited in re.findall(r"[\w./-]+\.md\b", text):
            if cited.startswith("results/"):  # written by the pipeline
                continue
            assert (ROOT / cited).is_file(), cited
