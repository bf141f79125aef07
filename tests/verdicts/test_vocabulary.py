"""The words of the verdicts (himo.verdicts.vocabulary), defined once, and the templates' environment
(himo.verdicts.templates) that prints them."""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path

import jinja2
import pytest

from himo.verdicts import vocabulary as V
from himo.verdicts.templates import ENVIRONMENT, listing, oneline, render, span

SRC = Path(__file__).resolve().parents[2] / "src/himo"


def test_numbers_are_printed_by_one_rule_each():
    assert V.significant(1.224713) == "1.225" and V.significant("1.97405e-06") == "1.974e-06"
    assert V.significant(1.224713, 3) == "1.22" and V.significant(12345) == "12345"  # a count stays whole
    assert V.fixed("0.4166") == "0.42" and V.fixed(-0.06) == "-0.06"
    assert V.fixed("") == V.fixed(math.nan) == V.fixed(None) == V.MISSING
    assert V.choice_value("0.90") == "0.9" and V.choice_value(1.0) == "1" and V.choice_value("exact") == "exact"


def test_listing_span_and_oneline():
    assert [listing(items) for items in ([], ["a"], ["a", "b"], ["a", "b", "c"])] == [
        "none", "a", "a and b", "a, b and c"]
    assert span([0.9]) == "0.9" and span([0.8, 0.85, 0.93]) == "0.8-0.93"
    assert oneline("one\n    two  \nthree\n") == "one two three\n"


def test_every_verdict_has_a_letter_a_brief_word_and_a_meaning():
    for words in (V.VERDICT_LETTERS, V.VERDICT_BRIEF, V.VERDICT_MEANINGS):
        assert tuple(words) == V.VERDICTS
    assert len(set(V.VERDICT_LETTERS.values())) == len(V.VERDICTS)
    assert set(V.PRIORITY_MEANINGS) == set(V.PRIORITY_TITLES) == set(V.PRIORITY_DEFINITIONS)
    assert V.PAPER_PRIORITY not in V.alternative_priorities()
    assert set(V.alternative_priorities()) | {V.PAPER_PRIORITY} == set(V.PRIORITY_DEFINITIONS)


def test_the_words_are_defined_in_the_vocabulary_only():
    """No other module of the package spells a verdict or names the priority definitions."""
    for path in SRC.rglob("*.py"):
        if path.name == "vocabulary.py" or path.name.startswith("test_"):
            continue
        text = path.read_text()
        strings = {n.value for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Constant)}
        assert not strings & set(V.VERDICTS), (path, strings & set(V.VERDICTS))
        assert not re.search(r"^(PRIORITY_DEFINITIONS|PRIORITY_(TITLES|NAMES)|VERDICT_LETTERS?|VERDICT_STYLES)\s*=",
                             text, re.M), path


def test_the_templates_are_strict():
    """A name a template reads that its data lack is an error, not an empty text."""
    with pytest.raises(jinja2.UndefinedError):
        ENVIRONMENT.from_string("{{ missing }}").render()
    with pytest.raises(jinja2.UndefinedError):
        render("summary.j2", SENTENCES="sentences.j2")
    assert ENVIRONMENT.autoescape is False and ENVIRONMENT.keep_trailing_newline
    assert ENVIRONMENT.from_string("{{ x }}").render(x="<b> & `c`") == "<b> & `c`"  # Markdown: nothing escaped
