"""The findings of a replication, as plain data: what results/replication.md says, read from the tables.

The replication report (:mod:`himo.verdicts.replication`) is written in two steps:
:func:`findings` reads every result the report states from the workflow's tables
into a :class:`Findings` (numbers, verdicts, lists: no sentence), and the templates
of :mod:`himo.verdicts.templates` word them. The tables (:class:`Tables`) are

* ``results/claims.json`` (:mod:`himo.verdicts.report`): each claim's paper text,
  operational definition, verdict under each priority definition, the numbers it
  rests on and the choices of the main runs;
* ``results/robustness.csv`` (:mod:`himo.verdicts.robustness`): every claim on every
  variant, with the group of the atlas and the choices of each run;
* ``results/baselines.csv`` (:mod:`himo.verdicts.baselines`): each run's agreement
  with the dynamic-programming order, by method family and foresight;
* ``results/bottleneck_lift.csv`` (:mod:`himo.verdicts.lift`): each claimed state's lift
  on every run;
* ``results/prior_runs.csv`` (optional; :func:`himo.verdicts.baselines.prior_table`):
  the runs from priors drawn near the uniform one, whose spread
  :mod:`himo.verdicts.priors` reads.

**Every number is read, none is typed in**: a rerun with other results gives other
findings. Findings that only one claim has (G1's ties, a fixed dependent action
stalling the step) are that claim's: its :attr:`~himo.verdicts.judging.Claim.discussion`
reads them (:func:`discussions`), so a new claim needs no change here.

The CSV cells stay the tables' text where the report prints them as they are (labels,
counts, a choice's value), and are read as floats where it computes with them or
rounds them (taus, priorities, margins); the templates format them
(:mod:`himo.verdicts.vocabulary`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from himo.io import read_csv
from himo.tolerances import TAU_ATOL
from himo.verdicts.baselines import METHOD_FAMILIES
from himo.verdicts.robustness import GROUP_OF_CHOICE
from himo.verdicts.beyond import FeatureComparison, feature_comparisons
from himo.verdicts.priors import SettingSpread, prior_spread
from himo.verdicts.thesis import Thesis, thesis_findings
from himo.verdicts.vocabulary import NOT, PAPER_PRIORITY, PARTLY, REPLICATED, alternative_priorities, choice_value

#: The atlas groups of HIMO's own variants (the first-order baselines are group ``method``).
HIMO_GROUPS = ("step", "E form", "reward", "step rule", "dependent rule", "placement")
#: The method families of results/baselines.csv, in the order they are shown.
FAMILIES = tuple(METHOD_FAMILIES)
#: The choices the summary names the main runs' values of (columns of results/robustness.csv).
MAIN_CHOICES = ("foresight", "step", "dependent_rule", "e_form")

#: The choices the paper leaves open, as the report's table names them: the column of
#: results/robustness.csv (``reward`` reads goal_reward and step_reward), its name and
#: what the paper says of it.
OPEN_CHOICES = (
    ("foresight", "foresight lambda", "not stated"),
    ("step", "step size alpha", "Eq. 20 printed with step 1"),
    ("e_form", "E of Algorithm 1", "printed without the factor lambda (an erratum: docs/MATH.md, section 4)"),
    ("dependent_rule", "dependent action", "not stated"),
    ("reward", "reward convention", "not stated"),
    ("placement", "start and goal (four rooms)", "drawn in the corners"),
)

#: The orders HIMO's on-path priorities are compared with (columns of results/baselines.csv),
#: and how the report names them; a column the table lacks is left out.
REFERENCE_ORDERS = (
    ("kendall_tau_dp", "the DP order (distance to the goal)"),
    ("kendall_tau_gap", "decreasing optimal gap `V*_i - max Q*_ij` over the non-optimal actions"),
    ("kendall_tau_prior", "decreasing prior rate (the best actions' initial log-odds rate, docs/MATH.md "
                          "section 10)"),
)

#: The numbers a claim's verdict rests on (columns of results/robustness.csv, a main
#: run's row), with the report's name for each; ``True`` for a number the report rounds,
#: ``False`` for a label or a count it prints as the table has it.
RESTS_ON = (
    ("subject", "subject", False), ("subject_priority", "priority", True), ("subject_rank", "rank", False),
    ("rival", "rival", False), ("rival_priority", "rival's priority", True), ("margin", "margin", True),
    ("count", "count", False), ("of", "of", False), ("value", "value", True),
)


# ------------------------------------------------------------------- the inputs
@dataclass(frozen=True)
class Tables:
    """The workflow's tables, as read from ``results/``."""

    claims: dict  # results/claims.json: claim id -> record
    robustness: list[dict]  # results/robustness.csv rows (text cells)
    baselines: list[dict]  # results/baselines.csv rows (text cells)
    lift: list[dict]  # results/bottleneck_lift.csv rows (text cells)
    priors: list[dict] = field(default_factory=list)  # results/prior_runs.csv rows (text cells; none: no such runs)

    @classmethod
    def read(cls, claims: str | Path, robustness: str | Path, baselines: str | Path, lift: str | Path,
             priors: str | Path | None = None) -> "Tables":
        """Read the tables (:func:`himo.io.read_csv` for the CSV ones); ``priors`` is optional."""
        return cls(claims=json.loads(Path(claims).read_text()), robustness=read_csv(robustness),
                   baselines=read_csv(baselines), lift=read_csv(lift),
                   priors=read_csv(priors) if priors is not None else [])

    def registered(self) -> list:
        """The registry's :class:`~himo.verdicts.judging.Claim` objects of the claims in the tables."""
        from himo.verdicts.claims import CLAIMS

        return [claim for claim in CLAIMS if claim.id in self.claims]

    def claim_ids(self) -> list[str]:
        """The claims in the registry's order (H1, ..., G1; others after, as claims.json lists them)."""
        registered = [claim.id for claim in self.registered()]
        return registered + [claim for claim in self.claims if claim not in registered]

    def records(self) -> list[tuple[str, dict]]:
        """``(claim id, record)`` in :meth:`claim_ids` order."""
        return [(claim, self.claims[claim]) for claim in self.claim_ids()]

    def rows(self, claim: str, priority: str = PAPER_PRIORITY, **where) -> list[dict]:
        """The robustness rows of a claim under a priority definition, filtered by column values."""
        return [row for row in self.robustness if row["claim"] == claim and row["priority"] == priority
                and all(row[key] == value for key, value in where.items())]


def number(text: str) -> float:
    """A table's cell as a float; an empty cell (or any text that is no number) is NaN."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


# ------------------------------------------------------------------ the verdicts
@dataclass(frozen=True)
class Stretch:
    """Consecutive foresight values (sorted) at which a claim has one verdict."""

    foresights: list[float]
    verdict: str


def foresight_profile(tables: Tables, claim: str, paper_env: str, family: str = "HIMO") -> list[tuple[float, str]]:
    """``[(foresight, verdict), ...]`` of a claim on one environment: HIMO's main run and
    its foresight variants, or a baseline family's runs (group ``method``)."""
    if family == "HIMO":
        rows = [row for row in tables.rows(claim) if row["paper_env"] == paper_env
                and row["group"] in ("main", "foresight")]
    else:
        rows = [row for row in tables.rows(claim) if row["paper_env"] == paper_env and row["group"] == "method"
                and row["method"] == family]
    return sorted({(float(row["foresight"]), row["verdict"]) for row in rows})


def stretches(pairs: list[tuple[float, str]]) -> list[Stretch]:
    """Consecutive values (sorted) with the same verdict, grouped: ``[Stretch([0.8, 0.85], NOT), ...]``."""
    found: list[Stretch] = []
    for value, verdict in sorted(pairs):
        if found and found[-1].verdict == verdict:
            found[-1].foresights.append(value)
        else:
            found.append(Stretch([value], verdict))
    return found


def claim_environments(tables: Tables, claim: str) -> list[str]:
    """The paper environments a claim is judged on, in the order of the table."""
    return list(dict.fromkeys(row["paper_env"] for row in tables.rows(claim, group="main")))


def verdict_counts(tables: Tables) -> dict[str, list[str]]:
    """The claims by their verdict at the paper's settings (the main runs)."""
    counts: dict[str, list[str]] = {}
    for claim, record in tables.records():
        counts.setdefault(record["verdict"], []).append(claim)
    return counts


@dataclass(frozen=True)
class MovedVerdict:
    """A HIMO variant whose verdict differs from its main run's."""

    claim: str
    paper_env: str
    group: str
    variant: str
    main: str | None  # the main run's verdict (None: no main run)
    verdict: str


def moved_verdicts(tables: Tables, groups: tuple[str, ...] = HIMO_GROUPS) -> list[MovedVerdict]:
    """Every HIMO variant in ``groups`` whose verdict differs from its main run's."""
    moved = []
    for claim in tables.claim_ids():
        main = {row["paper_env"]: row["verdict"] for row in tables.rows(claim, group="main")}
        for row in tables.rows(claim):
            if row["group"] in groups and row["verdict"] != main.get(row["paper_env"]):
                moved.append(MovedVerdict(claim, row["paper_env"], row["group"], row["variant"],
                                          main.get(row["paper_env"]), row["verdict"]))
    return moved


@dataclass(frozen=True)
class Disagreement:
    """A run on which an alternative priority definition gives another verdict than the paper's."""

    claim: str
    env_key: str
    group: str
    paper: str
    alternative: str


def priority_disagreements(tables: Tables) -> list[Disagreement]:
    """The runs on which an alternative priority gives another verdict than the paper's."""
    out = []
    for claim in tables.claim_ids():
        paper = {row["env_key"]: row for row in tables.rows(claim)}
        for name in alternative_priorities():
            for row in tables.rows(claim, priority=name):
                if row["env_key"] in paper and paper[row["env_key"]]["verdict"] != row["verdict"]:
                    out.append(Disagreement(claim, row["env_key"], row["group"], paper[row["env_key"]]["verdict"],
                                            row["verdict"]))
    return out


def foresight_sensitive(tables: Tables) -> list[tuple[str, str]]:
    """``(claim, environment)`` of the claims whose HIMO verdict changes over the foresight grid."""
    return [(claim, env) for claim in tables.claim_ids() for env in claim_environments(tables, claim)
            if len({verdict for _, verdict in foresight_profile(tables, claim, env)}) > 1]


# ----------------------------------------------------------------- the choices
def _choice_value(row: dict, column: str) -> str:
    if column == "reward":
        return f"goal {choice_value(row['goal_reward'])}, step {choice_value(row['step_reward'])}"
    return choice_value(row[column])


def _sort_key(text: str):
    try:
        return (0, float(text), "")
    except ValueError:
        return (1, 0.0, text)


def choice_values(tables: Tables, column: str) -> tuple[list[str], list[str]]:
    """A choice's values in the main runs, and all values judged: those of the main runs
    and of the atlas group that varies it, on the environments that group covers (every
    environment when no run varies it)."""
    group = GROUP_OF_CHOICE["goal_reward" if column == "reward" else column]
    rows = [row for row in tables.robustness if row["priority"] == PAPER_PRIORITY]
    covered = {row["paper_env"] for row in rows if row["group"] == group} or {row["paper_env"] for row in rows}
    main = sorted({_choice_value(row, column) for row in rows if row["group"] == "main"
                   and row["paper_env"] in covered}, key=_sort_key)
    judged = sorted({_choice_value(row, column) for row in rows if row["group"] in ("main", group)
                     and row["paper_env"] in covered}, key=_sort_key)
    return main, judged


@dataclass(frozen=True)
class OpenChoice:
    """A choice the paper leaves open: its name, what the paper says, its values in the
    main runs and all values judged in the atlas (:func:`choice_values`)."""

    name: str
    paper: str
    main: list[str]
    judged: list[str]


# ------------------------------------------------------------------ the claims
@dataclass(frozen=True)
class ClaimFinding:
    """One claim at the paper's settings: its verdicts, its verdicts over the foresight
    grid, and the numbers its verdict rests on, by environment."""

    id: str
    figure: str
    statement: str
    verdict: str
    alternative_verdicts: list[str]  # under each alternative priority definition
    profiles: list[tuple[str, list[Stretch]]]  # (environment, HIMO's verdicts by foresight)
    rests_on: list[tuple[str, list[tuple[str, str | float]]]]  # (environment, [(name, value)])
    partly_because: str | None  # why a partly verdict is partly (himo.verdicts.vocabulary.PARTLY_CAUSES)
    dp_order_verdict: str | None  # the verdict of the DP order under the claim's rule (None: not order-based)
    null_pass_rate: float | None  # the fraction of random orders the rule replicates
    null_standard_error: float | None
    stopped_early: list[str]  # the main runs judged that stopped at max_iter (their env_key)


def rests_on(tables: Tables, claim: str, paper_env: str) -> list[tuple[str, str | float]]:
    """The numbers of :data:`RESTS_ON` that a claim's main row on an environment fills,
    as ``(name, value)``: a float where the report rounds it, else the table's text."""
    row = next(r for r in tables.rows(claim, group="main") if r["paper_env"] == paper_env)
    return [(name, float(row[column]) if rounded else row[column])
            for column, name, rounded in RESTS_ON if row.get(column, "") != ""]


def claim_findings(tables: Tables) -> list[ClaimFinding]:
    """Every claim, in :meth:`Tables.claim_ids` order."""
    found = []
    for claim, record in tables.records():
        envs = claim_environments(tables, claim)
        found.append(ClaimFinding(
            id=claim, figure=record["figure"], statement=record["statement"], verdict=record["verdict"],
            alternative_verdicts=[record["verdict_by_priority"].get(name, "–") for name in alternative_priorities()],
            profiles=[(env, stretches(foresight_profile(tables, claim, env))) for env in envs],
            rests_on=[(env, rests_on(tables, claim, env)) for env in envs],
            partly_because=record.get("partly_because"), dp_order_verdict=record.get("dp_order_verdict"),
            null_pass_rate=record.get("null_pass_rate"), null_standard_error=record.get("null_standard_error"),
            stopped_early=sorted({row["env_key"] for row in tables.rows(claim, group="main")
                                  if row["stop_reason"] == "max_iter"})))
    return found


# --------------------------------------------------------------- the atlas
@dataclass(frozen=True)
class Atlas:
    """HIMO's verdicts by foresight (a verdict per claim, environment and foresight;
    None: no run), what moves the verdicts, and how often the alternative priority
    definitions disagree with the paper's."""

    n_runs: int
    foresights: list[float]
    verdicts: list[tuple[str, str, list[str | None]]]  # (claim, environment, verdict by foresight)
    groups: tuple[str, ...]  # the groups of HIMO's variants other than the foresight
    moved: list[MovedVerdict]  # by those groups
    disagreements: list[Disagreement]
    n_judgements: int  # under the paper's definition
    disagreements_by_group: dict[str, int]
    placements: list[PlacementProfile]  # the other placements, crossed with the foresight


@dataclass(frozen=True)
class PlacementProfile:
    """A claim on an environment under another placement of start and goal, at each
    foresight it was run, beside the main placement's verdict there."""

    claim: str
    paper_env: str
    placement: str  # "<start> to <goal>"
    by_foresight: list[tuple[float, str | None, str]]  # (foresight, the main placement's verdict, this one's)

    @property
    def moved(self) -> list[tuple[float, str | None, str]]:
        """The foresights at which the placement gives another verdict."""
        return [row for row in self.by_foresight if row[1] != row[2]]

    def pair_at(self, foresight: float) -> list[str | None] | None:
        """``[the main placement's verdict, this one's]`` at ``foresight``; None: not run there."""
        return next(([main, verdict] for f, main, verdict in self.by_foresight if f == foresight), None)


#: The atlas groups of the runs that vary the placement (alone, or with the foresight).
PLACEMENT_GROUPS = ("placement", "foresight+placement")


def placement_profiles(tables: Tables) -> list[PlacementProfile]:
    """Every claim on every other placement run over the foresight grid (:data:`PLACEMENT_GROUPS`)."""
    found = []
    for claim in tables.claim_ids():
        for env in claim_environments(tables, claim):
            main = dict(foresight_profile(tables, claim, env))
            rows = [r for r in tables.rows(claim) if r["paper_env"] == env and r["group"] in PLACEMENT_GROUPS]
            for placement in dict.fromkeys(r["placement"] for r in rows):
                mine = sorted((float(r["foresight"]), r["verdict"]) for r in rows if r["placement"] == placement)
                found.append(PlacementProfile(claim, env, placement, [(f, main.get(f), v) for f, v in mine]))
    return found


def atlas(tables: Tables) -> Atlas:
    foresights = sorted({float(row["foresight"]) for row in tables.robustness
                         if row["group"] in ("main", "foresight")})
    verdicts = []
    for claim in tables.claim_ids():
        for env in claim_environments(tables, claim):
            profile = dict(foresight_profile(tables, claim, env))
            verdicts.append((claim, env, [profile.get(f) for f in foresights]))
    disagreements = priority_disagreements(tables)
    by_group: dict[str, int] = {}
    for d in disagreements:
        by_group[d.group] = by_group.get(d.group, 0) + 1
    return Atlas(
        n_runs=len({row["env_key"] for row in tables.robustness}), foresights=foresights, verdicts=verdicts,
        groups=HIMO_GROUPS, moved=moved_verdicts(tables, HIMO_GROUPS), disagreements=disagreements,
        n_judgements=len([r for r in tables.robustness if r["priority"] == PAPER_PRIORITY]),
        disagreements_by_group=by_group, placements=placement_profiles(tables))


# ------------------------------------------------------------------ the baselines
def paper_environments(tables: Tables) -> list[str]:
    """The environments of results/baselines.csv, in its order."""
    return list(dict.fromkeys(row["paper_env"] for row in tables.baselines))


def baseline_rows(tables: Tables, paper_env: str, family: str) -> list[dict]:
    """A family's rows of results/baselines.csv on an environment, by foresight."""
    rows = [row for row in tables.baselines if row["paper_env"] == paper_env and row["family"] == family]
    return sorted(rows, key=lambda row: float(row["foresight"]))


@dataclass(frozen=True)
class TauTable:
    """Kendall taus by foresight: a row per line (a method, or an environment and an
    order), a cell per foresight (None: no run; NaN: a run without a tau)."""

    foresights: list[float]
    rows: list[tuple[list[str], list[float | None]]]  # (the row's names, taus)


@dataclass(frozen=True)
class Convergence:
    """How many runs of a method family met their own convergence test."""

    family: str
    n_runs: int
    not_converged: list[str]  # their env_key


@dataclass(frozen=True)
class Baselines:
    """The first-order baselines against HIMO: taus against the DP order by environment
    (each family's range, and the table by foresight), convergence, verdicts by method."""

    families: list[str]  # the FAMILIES results/baselines.csv has runs of
    tau_ranges: list[tuple[str, list[tuple[str, tuple[float, float] | None]]]]  # env, [(family, (low, high))]
    tau_tables: list[tuple[str, TauTable]]  # (environment, a row per family)
    convergence: list[Convergence]
    verdicts: list[tuple[str, str, list[list[Stretch]]]]  # (claim, environment, verdicts by family)
    resolution: list[Resolution]  # by family: how well the runs' grids resolve their orders


@dataclass(frozen=True)
class Resolution:
    """How well a family's runs resolve their own on-path orders (results/baselines.csv's
    ``resolved_pairs`` and ``agree_with_himo``): ranges over the runs, and the runs whose
    orders are mostly ties (:data:`himo.verdicts.baselines.MOSTLY_TIED`)."""

    family: str
    resolved: tuple[float, float] | None  # (lowest, highest) fraction of on-path pairs ordered
    agree: tuple[float, float] | None  # (lowest, highest) fraction ordered as HIMO orders them
    mostly_tied: list[str]  # env_key


def present_families(tables: Tables) -> list[str]:
    """The method families of :data:`FAMILIES` that results/baselines.csv has runs of, in that order."""
    present = {row["family"] for row in tables.baselines}
    return [family for family in FAMILIES if family in present]


def baselines(tables: Tables) -> Baselines:
    families = present_families(tables)
    ranges, tau_tables = [], []
    for env in paper_environments(tables):
        taus = {family: [number(r["kendall_tau_dp"]) for r in baseline_rows(tables, env, family)] for family in families}
        taus = {family: [t for t in values if not math.isnan(t)] for family, values in taus.items()}
        ranges.append((env, [(family, (min(t), max(t)) if t else None) for family, t in taus.items()]))
        foresights = sorted({float(row["foresight"]) for row in tables.baselines if row["paper_env"] == env})
        rows = []
        for family in families:
            by_foresight = {float(r["foresight"]): r for r in baseline_rows(tables, env, family)}
            rows.append(([family], [number(by_foresight[f]["kendall_tau_dp"]) if f in by_foresight else None
                                    for f in foresights]))
        tau_tables.append((env, TauTable(foresights, rows)))
    convergence = []
    for family in families:
        rows = [r for r in tables.baselines if r["family"] == family]
        convergence.append(Convergence(family, len(rows), [r["env_key"] for r in rows if r["stop_reason"] != "converged"]))
    verdicts = [(claim, env, [stretches(foresight_profile(tables, claim, env, family)) for family in families])
                for claim in tables.claim_ids() for env in claim_environments(tables, claim)]
    return Baselines(families, ranges, tau_tables, convergence, verdicts, resolution_findings(tables, families))


def resolution_findings(tables: Tables, families: list[str]) -> list[Resolution]:
    """:class:`Resolution` of each family (a table without the columns gives none)."""
    from himo.verdicts.baselines import MOSTLY_TIED

    def span(values: list[float]) -> tuple[float, float] | None:
        values = [v for v in values if not math.isnan(v)]
        return (min(values), max(values)) if values else None

    found = []
    for family in families:
        rows = [r for r in tables.baselines if r["family"] == family]
        if not rows or "resolved_pairs" not in rows[0]:
            continue
        resolved = [number(r["resolved_pairs"]) for r in rows]
        found.append(Resolution(family, span(resolved), span([number(r["agree_with_himo"]) for r in rows]),
                                [r["env_key"] for r, v in zip(rows, resolved) if v < MOSTLY_TIED]))
    return found


# ------------------------------------------------------------------ the mechanism
@dataclass(frozen=True)
class TauTrend:
    """HIMO's tau against the DP order at the lowest and the highest foresight of an environment."""

    paper_env: str
    first: float
    first_foresight: str
    last: float
    last_foresight: str


@dataclass(frozen=True)
class OrderComparison:
    """How HIMO's tau against a reference order compares with its tau against the DP
    order, run by run (the runs with both taus)."""

    column: str  # of results/baselines.csv
    name: str
    same: int  # within :data:`himo.tolerances.TAU_ATOL`
    higher: int
    lower: int

    @property
    def n_runs(self) -> int:
        return self.same + self.higher + self.lower

    @property
    def always_same(self) -> bool:
        return self.n_runs > 0 and self.same == self.n_runs


@dataclass(frozen=True)
class Mechanism:
    """HIMO's on-path order against each reference order (:data:`REFERENCE_ORDERS`):
    the taus by foresight, the trend against the DP order, each other order compared
    with the DP order. Empty without HIMO runs in results/baselines.csv."""

    taus: TauTable  # a row per environment and reference order
    trends: list[TauTrend]
    comparisons: list[OrderComparison]  # the reference orders other than the DP order

    @property
    def found(self) -> bool:
        return bool(self.trends or self.comparisons)


def reference_orders(tables: Tables) -> list[tuple[str, str]]:
    """The :data:`REFERENCE_ORDERS` that results/baselines.csv has columns for."""
    return [(column, name) for column, name in REFERENCE_ORDERS if tables.baselines and column in tables.baselines[0]]


def compare_taus(pairs: Sequence[tuple[float, float]]) -> tuple[int, int, int]:
    """``(same, higher, lower)``: of the pairs ``(tau against the DP order, tau against
    another)`` without NaN, how many are equal within :data:`~himo.tolerances.TAU_ATOL`,
    how many have the other tau higher, how many lower."""
    pairs = [(dp, other) for dp, other in pairs if not (math.isnan(dp) or math.isnan(other))]
    same = sum(abs(dp - other) < TAU_ATOL for dp, other in pairs)
    higher = sum(other > dp + TAU_ATOL for dp, other in pairs)
    return same, higher, len(pairs) - same - higher


def mechanism(tables: Tables) -> Mechanism:
    orders = reference_orders(tables)
    himo = [r for r in tables.baselines if r["family"] == "HIMO"]
    foresights = sorted({float(r["foresight"]) for r in himo})
    rows = []
    for env in paper_environments(tables):
        by_foresight = {float(r["foresight"]): r for r in baseline_rows(tables, env, "HIMO")}
        for column, name in orders:
            rows.append(([env, name], [number(by_foresight[f][column]) if f in by_foresight else None
                                       for f in foresights]))
    trends, comparisons = [], []
    if himo:
        for env in paper_environments(tables):
            ends = baseline_rows(tables, env, "HIMO")
            if ends:
                trends.append(TauTrend(env, number(ends[0]["kendall_tau_dp"]), ends[0]["foresight"],
                                       number(ends[-1]["kendall_tau_dp"]), ends[-1]["foresight"]))
        for column, name in orders[1:]:
            counts = compare_taus([(number(r["kendall_tau_dp"]), number(r[column])) for r in himo])
            comparisons.append(OrderComparison(column, name, *counts))
    return Mechanism(TauTable(foresights, rows), trends, comparisons)


# ----------------------------------------------------------------- the discussion
@dataclass(frozen=True)
class ClaimDiscussion:
    """A paragraph a claim contributes to the discussion: the template that words it
    and the facts it reads from the tables."""

    claim: str
    template: str
    facts: dict


def discussions(tables: Tables) -> list[ClaimDiscussion]:
    """Every registered claim's :attr:`~himo.verdicts.judging.Claim.discussion` that has
    something to say on these tables, in the registry's order."""
    found = []
    for claim in tables.registered():
        for discussion in claim.discussion:
            facts = discussion.facts(tables, claim.id)
            if facts is not None:
                found.append(ClaimDiscussion(claim.id, discussion.template, facts))
    return found


# ------------------------------------------------------------------ everything
# ------------------------------------------------- what the paper states, literally
#: The runs of Eq. 20 as printed: the atlas group and variant of each of its two literal choices.
LITERAL_CHOICES = (("step", "step", "1"), ("E form", "e_form", "printed"))


@dataclass(frozen=True)
class LiteralVerdict:
    """A claim on an environment under one of Eq. 20's literal choices, beside its main verdict."""

    claim: str
    paper_env: str
    choice: str  # the column of results/robustness.csv
    value: str
    main: str | None
    verdict: str


def literal_verdicts(tables: Tables) -> list[LiteralVerdict]:
    """Every claim on the runs that take Eq. 20 as printed (:data:`LITERAL_CHOICES`)."""
    found = []
    for claim in tables.claim_ids():
        main = {row["paper_env"]: row["verdict"] for row in tables.rows(claim, group="main")}
        for group, column, value in LITERAL_CHOICES:
            for row in tables.rows(claim, group=group):
                if row[column] == value:
                    found.append(LiteralVerdict(claim, row["paper_env"], column, value, main.get(row["paper_env"]),
                                                row["verdict"]))
    return found


@dataclass(frozen=True)
class Together:
    """The claims about bottlenecks (those that name states: each ``Claim.claimed``), each on
    its environment, at every foresight of HIMO's grid: which foresights replicate them all,
    and which comes closest (the most replicated, then the most partly)."""

    claims: list[tuple[str, str]]  # (claim, environment)
    by_foresight: list[tuple[float, list[str | None]]]  # foresight -> the verdicts, in claims' order
    all_replicated: list[float]
    closest: list[float]  # the foresights with the best count
    best: tuple[int, int]  # (replicated, partly) at the closest


def together(tables: Tables) -> Together:
    named = [claim.id for claim in tables.registered() if claim.claimed is not None]
    claims = [(claim, env) for claim in named for env in claim_environments(tables, claim)]
    profiles = {key: dict(foresight_profile(tables, *key)) for key in claims}
    foresights = sorted({f for profile in profiles.values() for f in profile})
    rows = [(f, [profiles[key].get(f) for key in claims]) for f in foresights]

    def score(verdicts: list[str | None]) -> tuple[int, int]:
        return sum(v == REPLICATED for v in verdicts), sum(v == PARTLY for v in verdicts)

    best = max((score(v) for _, v in rows), default=(0, 0))
    return Together(claims, rows, [f for f, v in rows if claims and score(v)[0] == len(claims)],
                    [f for f, v in rows if score(v) == best], best)


@dataclass(frozen=True)
class Findings:
    """Everything results/replication.md states, read from the tables (:func:`findings`)."""

    claims: list[ClaimFinding]
    main_choices: dict[str, str]  # MAIN_CHOICES -> the main runs' value(s), joined by "/"
    verdicts: dict[str, list[str]]  # verdict -> the claims with it (:func:`verdict_counts`)
    figures: list[str]  # the paper's figures the claims are about, sorted
    choices: list[OpenChoice]
    atlas: Atlas
    baselines: Baselines
    mechanism: Mechanism
    discussions: list[ClaimDiscussion]
    foresight_sensitive: list[tuple[str, str]]
    summaries: list[tuple[str, str]]  # (claim, what the numbers its verdict rests on are)
    thesis: Thesis  # the answers to the paper's thesis (himo.verdicts.thesis)
    literal: list[LiteralVerdict]  # the claims under Eq. 20 as printed (step 1, E as printed)
    together: Together  # the bottleneck claims at each foresight, side by side
    priors: list[SettingSpread]  # every claim, tau and lift over the drawn priors (himo.verdicts.priors)
    beyond: list[FeatureComparison]  # the runs with shared features beside the tabular ones (himo.verdicts.beyond)

    @property
    def all_replicated(self) -> bool:
        """Whether no claim is not replicated at the paper's settings."""
        return not any(claim.verdict == NOT for claim in self.claims)

    @property
    def moved_groups(self) -> list[tuple[str, str]]:
        """``(group, claim)`` of the verdicts the other choices move, once each, sorted."""
        return sorted({(m.group, m.claim) for m in self.atlas.moved})


def findings(tables: Tables) -> Findings:
    """The findings of the tables (see the module docstring)."""
    return Findings(
        claims=claim_findings(tables),
        main_choices={name: "/".join(choice_values(tables, name)[0]) for name in MAIN_CHOICES},
        verdicts=verdict_counts(tables),
        figures=sorted({record["figure"] for record in tables.claims.values()}),
        choices=[OpenChoice(name, paper, *choice_values(tables, column)) for column, name, paper in OPEN_CHOICES],
        atlas=atlas(tables),
        baselines=baselines(tables),
        mechanism=mechanism(tables),
        discussions=discussions(tables),
        foresight_sensitive=foresight_sensitive(tables),
        summaries=[(claim.id, claim.summary) for claim in tables.registered() if claim.summary],
        thesis=thesis_findings(tables.lift, tables.claims, present_families(tables)),
        literal=literal_verdicts(tables),
        together=together(tables),
        priors=prior_spread(tables.priors, tables.robustness, tables.lift, tables.claim_ids()),
        beyond=feature_comparisons(tables.robustness, tables.lift, tables.claim_ids()),
    )
