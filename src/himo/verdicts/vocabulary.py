"""The words the verdicts are written in, each defined once: verdicts, priority definitions, numbers.

Every module that judges, tabulates, draws or reports the claims takes these from here:

* the **verdicts** (:data:`VERDICTS`), with the letter a table or a figure gives each
  (:data:`VERDICT_LETTERS`), the brief word a sentence uses (:data:`VERDICT_BRIEF`) and
  what each means (:data:`VERDICT_MEANINGS`, docs/CLAIMS.md), and the causes of a
  partly replicated verdict (:data:`PARTLY_CAUSES`);
* the **priority definitions** every claim is judged under (:data:`PRIORITY_DEFINITIONS`,
  the paper's :data:`PAPER_PRIORITY`), with how a sentence (:data:`PRIORITY_MEANINGS`) and
  a figure (:data:`PRIORITY_TITLES`) name them;
* how the reports print **numbers**: a number a verdict rests on to a few significant
  digits (:func:`significant`), a Kendall tau to fixed decimals (:func:`fixed`), a choice's
  value as the tables print it (:func:`choice_value`, the tables' digits,
  :data:`himo.io.TABLE_DIGITS`).
"""

from __future__ import annotations

import math

from himo.io import table_number

# ------------------------------------------------------------------ the verdicts
REPLICATED = "replicated"
PARTLY = "partly replicated"
NOT = "not replicated"
NOT_EVALUATED = "not evaluated"
#: Every verdict, from the best to none.
VERDICTS = (REPLICATED, PARTLY, NOT, NOT_EVALUATED)
#: One letter per verdict, in the tables of the reports and the atlas' heat map.
VERDICT_LETTERS = {REPLICATED: "R", PARTLY: "P", NOT: "N", NOT_EVALUATED: "-"}
#: The verdicts in a sentence that lists them ("partly at 0.95"): the words that stay unambiguous.
VERDICT_BRIEF = {REPLICATED: "replicated", PARTLY: "partly", NOT: "not replicated", NOT_EVALUATED: "not evaluated"}
#: What each verdict means (docs/CLAIMS.md).
VERDICT_MEANINGS = {
    REPLICATED: "the measures show what the paper says, by the definition",
    PARTLY: "they show a weaker form of it (named in each definition)",
    NOT: "they do not",
    NOT_EVALUATED: "the run the claim needs is missing, or lacks what the definition reads (the reason is given)",
}

#: Why a verdict is only partly replicated: the first words of every ``partly_because``.
#: Unlike cases, kept apart: a claimed state tied with its rival at the time grid's
#: resolution; a claimed state ahead of only some of the states between it and the goal
#: (which a scrambled order also does: the claims' null pass rates say how often); some
#: of several states doing what the claim says; optimal actions that tie in the
#: environment (the flow keeps them equally likely); runs that stopped before the
#: convergence test held.
WITHIN_RESOLUTION = "tied within the resolution"
JUMPS_AHEAD = "ahead of a few states only"
SOME_OF_THE_STATES = "some of the states"
TIED_OPTIMAL_ACTIONS = "tied optimal actions"
NOT_CONVERGED = "not converged"
PARTLY_CAUSES = (WITHIN_RESOLUTION, JUMPS_AHEAD, SOME_OF_THE_STATES, TIED_OPTIMAL_ACTIONS, NOT_CONVERGED)

# ------------------------------------------------------- the priority definitions
#: The definitions of a state's priority every claim is judged under: name -> the
#: measures variable that holds it (himo.measures.dataset).
PRIORITY_DEFINITIONS = {
    "peak": "priority",  # the paper's: the time at which dPD/dt peaks
    "half": "priority_half",  # the time at which PD~ first reaches 1/2
}
#: The paper's definition: the claims' verdicts are judged under it.
PAPER_PRIORITY = "peak"
#: Each definition in a sentence.
PRIORITY_MEANINGS = {"peak": "the peak of dPD/dt", "half": "the time PD~ first reaches 1/2"}
#: Each definition as a figure's title names it.
PRIORITY_TITLES = {"peak": "priority: peak of dPD/dt (paper)", "half": "priority: PD~ reaches 1/2"}
#: Each definition as a panel's title names it, briefly.
PRIORITY_SHORT = {"peak": "dPD/dt peak", "half": "PD~ = 1/2"}


def alternative_priorities() -> list[str]:
    """The definitions other than the paper's, in the order of :data:`PRIORITY_DEFINITIONS`."""
    return [name for name in PRIORITY_DEFINITIONS if name != PAPER_PRIORITY]


# --------------------------------------------------------------------- numbers
#: The significant digits of a number a verdict rests on (priorities, margins, values,
#: probabilities), wherever a report prints one: results/claims.md, results/replication.md.
REPORT_DIGITS = 4
#: The decimals of a Kendall tau (in [-1, 1]) in the replication report.
TAU_DECIMALS = 2
#: What a report prints for a number that is missing (an empty cell, NaN).
MISSING = "–"


def significant(value, digits: int = REPORT_DIGITS) -> str:
    """A number a verdict rests on, to ``digits`` significant digits (``1.225``, ``1.974e-06``);
    ``value`` may be a table's text. A count or a label (an int, a text that is no number) is
    printed as it is."""
    if isinstance(value, bool) or isinstance(value, int):
        return str(value)
    try:
        return f"{float(value):.{digits}g}"
    except (TypeError, ValueError):
        return str(value)


def fixed(value, decimals: int = TAU_DECIMALS) -> str:
    """A number (or a table's text) with ``decimals`` decimals; an empty cell or NaN is :data:`MISSING`."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return MISSING
    return MISSING if math.isnan(number) else f"{number:.{decimals}f}"


def choice_value(value) -> str:
    """A choice's value as the tables print it (``0.9``, not ``0.90``; :func:`himo.io.table_number`);
    a text that is no number (``exact``, ``r1c1 to r11c11``) as it is."""
    try:
        return table_number(float(value))
    except (TypeError, ValueError):
        return str(value)
