"""The Jinja2 templates of the verdicts' Markdown, and the one environment that renders them.

Each ``*.j2`` file of this package words plain data (the findings of
:mod:`himo.verdicts.findings`, the records of a judgement, the claims registry) as
Markdown: results/replication.md and its summary (:mod:`himo.verdicts.replication`),
results/claims.md and docs/CLAIMS.md (:mod:`himo.verdicts.report`), the paragraphs a
claim adds to the discussion (:class:`himo.verdicts.judging.Discussion`). The
templates hold the words; the numbers, verdicts and names come in as data and are
printed by the filters below, from :mod:`himo.verdicts.vocabulary` (whose constants, the
verdicts and the names of the priority definitions, every template sees).

The environment: undefined names are errors (``StrictUndefined``), nothing is
escaped (Markdown, not HTML), a block tag takes its line's indentation and newline
with it (``trim_blocks``, ``lstrip_blocks``) and a template's last newline is kept.
The filter ``oneline`` joins a paragraph written over several lines of a template
into the one line Markdown keeps it on.

Each module names the templates it renders by their file names (as
:mod:`himo.pipeline.sources` finds the data files of a command); the macros every
template may import are :data:`MACROS`.
"""

from __future__ import annotations

import json
import re
from typing import Iterable

import jinja2

from himo.verdicts import vocabulary
from himo.verdicts.priors import at_main_runs, firm_count
from himo.verdicts.thesis import lift_row, lift_word
from himo.verdicts.vocabulary import MISSING, VERDICT_BRIEF, VERDICT_LETTERS, choice_value, fixed, significant

#: The macros every template may use (a table's header, the cells of a row, the separators of a
#: listing), imported by ``{% import MACROS as md %}``.
MACROS = "macros.j2"


def listing(items: Iterable[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``; ``none`` for no item."""
    items = [str(item) for item in items]
    if not items:
        return "none"
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def span(values: list[float]) -> str:
    """Sorted choice values as a range: ``0.9``, ``0.8-0.93``."""
    ends = [choice_value(values[0]), choice_value(values[-1])]
    return ends[0] if len(values) == 1 else "-".join(ends)


def letter(verdict: str | None) -> str:
    """A verdict's letter (:data:`~himo.verdicts.vocabulary.VERDICT_LETTERS`); no verdict (no run) is a dash."""
    return MISSING if verdict is None else VERDICT_LETTERS.get(verdict, MISSING)


def tau_cell(tau: float | None) -> str:
    """A table's cell for a Kendall tau (:func:`~himo.verdicts.vocabulary.fixed`); empty for no run."""
    return "" if tau is None else fixed(tau)


def verdict_cell(verdicts: list[str] | None) -> str:
    """A cell of the robustness tables of results/claims.md: the letters of a list of verdicts
    joined by ``/`` (``P/R``); empty for no run."""
    return "" if verdicts is None else "/".join(letter(verdict) for verdict in verdicts)


def prior_cell(claim) -> str:
    """A claim's cell of the priors' table (a :class:`~himo.verdicts.priors.ClaimSpread`): the
    uniform prior's verdict letter and how many drawn priors agree, then the others'
    letters and counts: ``R 16/16``, ``P 9/16, R 7``."""
    cell = f"{letter(claim.uniform)} {claim.agree}/{claim.n}"
    others = sorted(claim.others.items(), key=lambda item: (-item[1], letter(item[0])))
    return cell + "".join(f", {letter(verdict)} {count}" for verdict, count in others)


def prior_cell_at(item, named: bool) -> str:
    """:func:`prior_cell` of an ``(environment, spread)`` pair, after the environment's
    name when ``named`` (a claim judged on several environments: G1)."""
    paper_env, claim = item
    return f"{paper_env} {prior_cell(claim)}" if named else prior_cell(claim)


def prior_cell_named(claim) -> str:
    """:func:`prior_cell` after the claim's id: ``H1 P 9/16, R 7``."""
    return f"{claim.claim} {prior_cell(claim)}"


def spread_number(value) -> str:
    """A lift or count over the drawn priors: a whole number as it is, a median between two
    as ``-0.5``; no value is :data:`~himo.verdicts.vocabulary.MISSING`."""
    if value is None:
        return MISSING
    return str(int(value)) if float(value).is_integer() else significant(value, 3)


def spread_cell(spread, decimals: int | None = None) -> str:
    """A number over the drawn priors (a :class:`~himo.verdicts.priors.Spread`): the
    uniform prior's value, then the median and the range, ``0.81; 0.79 (0.70 to 0.85)``;
    with ``decimals`` (taus) fixed decimals, else as counts are (lifts: whole ranks, a
    median may be a half)."""
    def number(value) -> str:
        return fixed(value, decimals) if decimals is not None and value is not None else spread_number(value)
    if not spread.values:
        return number(spread.uniform)
    return f"{number(spread.uniform)}; {number(spread.median)} ({number(spread.low)} to {number(spread.high)})"


def oneline(text: str) -> str:
    """A paragraph written over several template lines, on one line: each newline that
    more text follows, with the indentation around it, becomes one space (a newline at
    the end stays)."""
    return re.sub(r"[ \t]*\n[ \t]*(?=\S)", " ", text)


def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader(__name__, "."), undefined=jinja2.StrictUndefined, autoescape=False,
        keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    environment.filters.update(
        fixed=fixed, significant=significant, choice=choice_value, listing=listing, span=span, letter=letter,
        tau_cell=tau_cell, verdict_cell=verdict_cell, prior_cell=prior_cell, spread_cell=spread_cell,
        prior_cell_named=prior_cell_named, spread_number=spread_number, prior_cell_at=prior_cell_at,
        at_main_runs=at_main_runs,
        oneline=oneline, lift_word=lift_word, lift_row=lift_row, firm_count=firm_count,
        lookup=lambda key, mapping: mapping.get(key, MISSING), prefix=lambda text, start: f"{start}{text}",
        brief=lambda verdict: VERDICT_BRIEF.get(verdict, verdict),
        json=lambda value: json.dumps(value, sort_keys=True, indent=1))
    environment.globals.update({name: value for name, value in vars(vocabulary).items() if name.isupper()},
                               alternative_priorities=vocabulary.alternative_priorities, MACROS=MACROS)
    return environment


ENVIRONMENT = _environment()


def render(template: str, **context) -> str:
    """The template ``template`` (a file name of this package) rendered with ``context``."""
    return ENVIRONMENT.get_template(template).render(**context)
