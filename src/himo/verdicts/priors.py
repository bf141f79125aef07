"""How firm the orders are: every claim, tau and lift over priors drawn near the uniform one.

Every order the report judges comes from a deterministic run from the uniform prior
of Eq. 22. How firm is a rank, then? The workflow answers by perturbing the start:
for each paper environment, at the main foresight and at another, it runs HIMO and
the first-order baselines from priors drawn near the uniform one (the setting
``prior_seed``: each state's action probabilities from a symmetric Dirichlet
distribution, :func:`himo.solver.policy.prior_policy`), every other choice as in the
setting's uniform-prior run. Three tables hold the outcome:

* ``results/robustness.csv``, the verdict of every claim on every such run (group
  ``prior``, the seed in column ``seed``);
* ``results/prior_runs.csv`` (:func:`himo.verdicts.baselines.prior_table`), each run's
  Kendall tau against the DP order, beside the uniform prior's run of the setting;
* ``results/bottleneck_lift.csv`` (:mod:`himo.verdicts.lift`), each claimed state's lift
  on every run.

:func:`prior_spread` reads them into one :class:`SettingSpread` per environment,
method family and foresight: for each claim the uniform prior's verdict and how many
drawn priors give each verdict; for the tau and each claimed state's lift, the uniform
prior's value beside the median and the range over the drawn priors. Plain data, no
words: the report's templates word them.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Sequence

from himo.io import cell_number
from himo.verdicts.vocabulary import PAPER_PRIORITY

#: The atlas group of the runs from drawn priors (:func:`himo.verdicts.robustness.group_of`).
PRIOR_GROUP = "prior"


@dataclass(frozen=True)
class Spread:
    """A number over the drawn priors, beside the uniform prior's."""

    uniform: float | None  # the uniform prior's run (None: no such run, or no value)
    values: list[float]  # the drawn priors' runs that have one, by seed

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def median(self) -> float | None:
        return statistics.median(self.values) if self.values else None

    @property
    def low(self) -> float | None:
        return min(self.values) if self.values else None

    @property
    def high(self) -> float | None:
        return max(self.values) if self.values else None

    @property
    def contains_uniform(self) -> bool:
        """Whether the uniform prior's value lies within the drawn priors' range."""
        return self.uniform is not None and bool(self.values) and self.low <= self.uniform <= self.high


@dataclass(frozen=True)
class ClaimSpread:
    """One claim on one setting: the uniform prior's verdict and the drawn priors'."""

    claim: str
    uniform: str | None  # the verdict from the uniform prior (None: no such run)
    counts: dict[str, int]  # verdict -> how many drawn priors give it
    n: int  # drawn priors judged

    @property
    def agree(self) -> int:
        """How many drawn priors give the uniform prior's verdict."""
        return self.counts.get(self.uniform, 0) if self.uniform is not None else 0

    @property
    def firm(self) -> bool:
        """Every drawn prior gives the uniform prior's verdict."""
        return self.uniform is not None and self.agree == self.n

    @property
    def others(self) -> dict[str, int]:
        """The drawn priors' verdicts other than the uniform prior's, with their counts."""
        return {verdict: count for verdict, count in self.counts.items() if verdict != self.uniform}


@dataclass(frozen=True)
class LiftSpread:
    """A claimed state's lift (DP rank minus rank) over the drawn priors."""

    state: str
    lift: Spread
    off_path: int  # drawn priors whose run's optimal path does not pass the state (no lift)

    @property
    def same_sign(self) -> int:
        """How many drawn priors give a lift of the uniform prior's sign (ahead of the DP
        order, at its place, or behind it); 0 without a uniform prior's lift."""
        if self.lift.uniform is None:
            return 0
        return sum(1 for value in self.lift.values if _sign(value) == _sign(self.lift.uniform))


@dataclass(frozen=True)
class SettingSpread:
    """One environment, method family and foresight: the spread over the drawn priors."""

    paper_env: str
    family: str
    foresight: float
    uniform_run: str | None  # the env_key of the uniform prior's run
    seeds: list[int]
    concentration: str  # the drawn priors' concentration (as the table has it; "" if none)
    not_converged: list[str]  # env_key of the drawn priors' runs that stopped otherwise
    claims: list[ClaimSpread]
    tau: Spread  # Kendall tau against the DP order
    lifts: list[LiftSpread]

    @property
    def n(self) -> int:
        return len(self.seeds)

    @property
    def moved(self) -> list[ClaimSpread]:
        """The claims some drawn prior gives another verdict than the uniform prior's."""
        return [claim for claim in self.claims if not claim.firm]


def firm_count(settings: Sequence[SettingSpread]) -> tuple[int, int]:
    """``(firm, judged)``: of the claims judged on the settings (each claim once per
    setting), how many every drawn prior gives the uniform prior's verdict."""
    claims = [claim for setting in settings for claim in setting.claims if claim.uniform is not None]
    return sum(claim.firm for claim in claims), len(claims)


def _sign(value: float) -> int:
    return (value > 0) - (value < 0)


def prior_spread(prior_rows: Sequence[dict], robustness: Sequence[dict], lift: Sequence[dict],
                 claim_order: Sequence[str]) -> list[SettingSpread]:
    """The :class:`SettingSpread` of every setting of ``prior_rows`` (results/prior_runs.csv,
    as read: strings), in its order; ``robustness`` and ``lift`` are the rows of
    results/robustness.csv and results/bottleneck_lift.csv, ``claim_order`` the claims in
    the registry's order. Verdicts are the paper priority definition's."""
    verdicts: dict[str, dict[str, str]] = {}
    for row in robustness:
        if row["priority"] == PAPER_PRIORITY:
            verdicts.setdefault(row["env_key"], {})[row["claim"]] = row["verdict"]
    lifts: dict[str, dict[str, str]] = {}
    for row in lift:
        if not row["role"].startswith("before "):
            lifts.setdefault(row["run"], {})[row["state"]] = row["lift"]
    settings: dict[tuple[str, str, str], list[dict]] = {}
    for row in prior_rows:
        settings.setdefault((row["paper_env"], row["family"], row["foresight"]), []).append(row)
    return [_setting(env, family, float(foresight), rows, verdicts, lifts, claim_order)
            for (env, family, foresight), rows in settings.items()]


def _setting(paper_env: str, family: str, foresight: float, rows: list[dict], verdicts: dict, lifts: dict,
             claim_order: Sequence[str]) -> SettingSpread:
    uniform = next((row for row in rows if not row["seed"]), None)
    drawn = [row for row in rows if row["seed"]]
    keys = [row["env_key"] for row in drawn]
    uniform_key = uniform["env_key"] if uniform else None
    judged = [claim for claim in claim_order if any(claim in verdicts.get(key, {}) for key in keys)]
    claims = []
    for claim in judged:
        counts: dict[str, int] = {}
        for key in keys:
            if claim in verdicts.get(key, {}):
                counts[verdicts[key][claim]] = counts.get(verdicts[key][claim], 0) + 1
        claims.append(ClaimSpread(claim, verdicts.get(uniform_key, {}).get(claim), counts, sum(counts.values())))
    states = list(dict.fromkeys(state for key in [uniform_key, *keys] for state in lifts.get(key, {})))
    lift_spreads = []
    for state in states:
        values = [lifts.get(key, {}).get(state) for key in keys]
        lift_spreads.append(LiftSpread(
            state, Spread(cell_number(lifts.get(uniform_key, {}).get(state)), [float(v) for v in values if v]),
            sum(1 for v in values if not v)))
    return SettingSpread(
        paper_env=paper_env, family=family, foresight=foresight, uniform_run=uniform_key,
        seeds=[int(row["seed"]) for row in drawn], concentration=drawn[0]["prior_concentration"] if drawn else "",
        not_converged=[row["env_key"] for row in drawn if row["stop_reason"] != "converged"],
        claims=claims, tau=Spread(cell_number(uniform["kendall_tau_dp"]) if uniform else None,
                                  [float(row["kendall_tau_dp"]) for row in drawn if row["kendall_tau_dp"]]),
        lifts=lift_spreads)


def at_main_runs(settings: Sequence[SettingSpread]) -> dict[str, list[tuple[str, ClaimSpread]]]:
    """``{claim: [(paper_env, spread), ...]}``: each claim over the drawn priors of the
    settings whose uniform-prior run is its environment's main run (HIMO at the paper's
    settings), in the settings' order."""
    found: dict[str, list[tuple[str, ClaimSpread]]] = {}
    for setting in settings:
        if setting.uniform_run == setting.paper_env:
            for claim in setting.claims:
                found.setdefault(claim.claim, []).append((setting.paper_env, claim))
    return found
