"""The paper's thesis, answered from the tables: the findings behind the report's Conclusion.

The paper's thesis is that the natural (second-order) path gradient is what makes the
policy flow hierarchical: bottlenecks early, and unlike state-averaged natural
gradients. Four questions, each answered from a table the workflow writes and
nothing else:

1. **Does HIMO settle the claimed bottlenecks earlier than value propagation?** The
   bottleneck lift (:mod:`himo.verdicts.lift`, ``results/bottleneck_lift.csv``) of the
   states the claims name, over the runs that vary the foresight alone: which states
   HIMO moves ahead of the dynamic-programming (DP) order (positive lift), at which
   foresights, which it defers (negative lift), and the sum at the main foresight.
2. **More than the first-order baselines?** At each foresight, the summed lift of each
   other method family against HIMO's, and how many of their claimed states' ranks are
   tied (an order that is mostly ties lifts nothing it can be held to).
3. **Is HIMO distinct from the state-averaged natural gradient?** Claim N1's record
   (``results/claims.json``): how many on-path pairs Kakade's natural gradient orders
   the other way round from HIMO (docs/MATH.md, identity 11 says why none should).
4. **Which verdicts say nothing about hierarchy?** The claims the DP order passes by
   itself (``dp_order_passes``), and each claim's pass rate under random orders
   (``null_pass_rate``).

:func:`thesis_findings` gathers them into a :class:`Thesis`, a plain data structure
with no words in it: the report's templates turn it into sentences, so that if the
numbers changed, the conclusion would change with them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from himo.verdicts.vocabulary import NOT_EVALUATED, REPLICATED

#: The method family the thesis is about (a key of himo.verdicts.baselines.METHOD_FAMILIES).
HIMO = "HIMO"


@dataclass(frozen=True)
class LiftCell:
    """The claimed states of one method family's run at one foresight."""

    run: str
    lifts: dict[str, int | None]  # state label -> lift (None: off the run's own path)
    tied: list[str]  # the claimed states whose rank is tied with another on-path state's
    stop_reason: str

    @property
    def total(self) -> int:
        """The summed lift of the claimed states on the run's path."""
        return sum(v for v in self.lifts.values() if v is not None)


@dataclass(frozen=True)
class EnvironmentLift:
    """One paper environment's lift table: family -> foresight -> :class:`LiftCell`."""

    paper_env: str
    main_foresight: float | None
    cells: dict[str, dict[float, LiftCell]]
    himo_lifts: list[float]  # the foresights at which HIMO's summed lift is positive
    ahead: dict[str, list[float]]  # HIMO: state -> the foresights at which its lift is positive
    behind: dict[str, list[float]]  # HIMO: state -> the foresights at which its lift is negative
    at_least_as_far: dict[str, list[float]]  # family -> foresights where its total >= HIMO's (HIMO's > 0)
    farther: dict[str, list[float]]  # family -> foresights where its total > HIMO's
    shared_foresights: dict[str, list[float]]  # family -> the foresights both it and HIMO have

    def main_cell(self, family: str = HIMO) -> LiftCell | None:
        return self.cells.get(family, {}).get(self.main_foresight)


@dataclass(frozen=True)
class Thesis:
    """The findings of :func:`thesis_findings`."""

    environments: list[EnvironmentLift]
    families: list[str]
    first_order: list[str]  # the families of first-order methods (himo.solver.steps.FIRST_ORDER_METHODS)
    npg_verdict: str | None  # claim N1's verdict (None: not judged)
    npg_pairs_reversed: int | None
    npg_pairs_compared: int | None
    npg_median_priority_difference: float | None
    dp_passes: list[str]  # the claims the DP order passes alone
    nulls: dict[str, dict] = field(default_factory=dict)  # claim -> its null fields

    @property
    def himo_ahead_somewhere(self) -> list[str]:
        """The environments where HIMO moves some claimed state ahead of the DP order."""
        return [e.paper_env for e in self.environments if e.ahead]

    @property
    def himo_defers_somewhere(self) -> list[str]:
        """The environments where HIMO puts some claimed state behind the DP order."""
        return [e.paper_env for e in self.environments if e.behind]

    @property
    def main_ahead(self) -> list[str]:
        """The environments where HIMO's summed lift is positive at the main foresight."""
        return [e.paper_env for e in self.environments if e.main_cell() is not None and e.main_cell().total > 0]

    @property
    def distinct_from_npg(self) -> bool | None:
        return None if self.npg_verdict is None else self.npg_verdict == REPLICATED


def _int(text: str) -> int | None:
    return None if text in ("", None) else int(text)


def lift_cells(rows: list[dict]) -> dict[str, dict[str, dict[float, LiftCell]]]:
    """``{paper_env: {family: {foresight: LiftCell}}}`` from the rows of
    results/bottleneck_lift.csv (as read, strings) of the compared runs, claimed states
    only (not the states they are crossed from)."""
    grouped: dict = {}
    for row in rows:
        if row["compared"] != "true" or row["role"].startswith("before ") or not row["family"]:
            continue
        key = (row["paper_env"], row["family"], float(row["foresight"]))
        grouped.setdefault(key, []).append(row)
    out: dict = {}
    for (env, family, foresight), members in sorted(grouped.items(), key=lambda item: item[0][2]):
        out.setdefault(env, {}).setdefault(family, {})[foresight] = LiftCell(
            run=members[0]["run"],
            lifts={r["state"]: _int(r["lift"]) for r in members},
            tied=[r["state"] for r in members if r["tied"] == "true"],
            stop_reason=members[0]["stop_reason"])
    return out


def environment_lift(paper_env: str, cells: dict[str, dict[float, LiftCell]],
                     main_foresight: float | None) -> EnvironmentLift:
    himo = cells.get(HIMO, {})
    ahead: dict[str, list[float]] = {}
    behind: dict[str, list[float]] = {}
    for foresight, cell in himo.items():
        for state, lift in cell.lifts.items():
            if lift is not None and lift > 0:
                ahead.setdefault(state, []).append(foresight)
            if lift is not None and lift < 0:
                behind.setdefault(state, []).append(foresight)
    at_least, farther, shared = {}, {}, {}
    for family, by_foresight in cells.items():
        if family == HIMO:
            continue
        common = [f for f in by_foresight if f in himo]
        shared[family] = common
        at_least[family] = [f for f in common if himo[f].total > 0 and by_foresight[f].total >= himo[f].total]
        farther[family] = [f for f in common if by_foresight[f].total > himo[f].total]
    lifts = [f for f, cell in himo.items() if cell.total > 0]
    return EnvironmentLift(paper_env, main_foresight, cells, lifts, ahead, behind, at_least, farther, shared)


def thesis_findings(lift_rows: list[dict], claims: dict, families: list[str]) -> Thesis:
    """The thesis's findings from results/bottleneck_lift.csv's rows and
    results/claims.json's records; ``families`` in the order the report shows them."""
    from himo.solver.steps import FIRST_ORDER_METHODS
    from himo.verdicts.baselines import METHOD_FAMILIES

    cells = lift_cells(lift_rows)
    main = {row["paper_env"]: float(row["foresight"]) for row in lift_rows if row["run"] == row["paper_env"]}
    paper_order = [record.get("paper_env") for record in claims.values()]  # the registry's order
    ordered = sorted(cells, key=lambda env: (paper_order.index(env) if env in paper_order else len(paper_order), env))
    environments = [environment_lift(env, cells[env], main.get(env)) for env in ordered]
    shown = [f for f in families if any(f in e.cells for e in environments)]
    n1 = claims.get("N1")
    runs = (n1 or {}).get("numbers", {}).get("runs", {})
    return Thesis(
        environments=environments,
        families=shown,
        first_order=[f for f in shown if set(METHOD_FAMILIES.get(f, ())) <= set(FIRST_ORDER_METHODS)
                     and METHOD_FAMILIES.get(f)],
        npg_verdict=None if n1 is None or n1["verdict"] == NOT_EVALUATED else n1["verdict"],
        npg_pairs_reversed=sum(r["pairs_reversed"] for r in runs.values()) if runs else None,
        npg_pairs_compared=sum(r["pairs_reversed"] + r["pairs_alike"] for r in runs.values()) if runs else None,
        npg_median_priority_difference=(max(r["median_relative_priority_difference"] or 0.0 for r in runs.values())
                                        if runs else None),
        dp_passes=[cid for cid, record in claims.items() if record.get("dp_order_passes")],
        nulls={cid: {name: record[name] for name in ("dp_order_verdict", "dp_order_passes", "null_pass_rate",
                                                     "null_standard_error", "null_verdicts", "null_method")
                     if name in record}
               for cid, record in claims.items() if "null_pass_rate" in record},
    )


# ------------------------------------------------------------ how the report prints them
def lift_word(lift: int | None) -> str:
    """A lift in a sentence: ``+3``, ``0``, ``-1``; ``off its path`` for none."""
    return "off its path" if lift is None else f"{lift:+d}" if lift else "0"


def lift_row(cells: dict[float, LiftCell], foresights: list[float]) -> list[str]:
    """A family's row of the lift table: the summed lift at each foresight, ``*`` after it
    when a claimed state's rank is tied; empty where the family has no run."""
    return ["" if f not in cells else lift_word(cells[f].total) + ("*" if cells[f].tied else "") for f in foresights]
