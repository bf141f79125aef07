"""Beyond the paper: what shared (coarse) features do to the hierarchy, read from the tables.

The paper leaves the parametrized policy ``A(theta)`` as future work; himo runs it
for log-linear policies (docs/MATH.md, identity 12; ``himo.solve(features=...)``).
The workflow runs each paper environment with the tabular features plus coarse ones
shared across states (a run whose ``features`` choice is set: group ``features`` of
``results/robustness.csv``). Identity 12 predicts the outcome: with each state's own
(tabular) features present, the natural gradient in ``theta`` is the tabular flow
with the multiplicative step on every state the start reaches, so the shared features
can move no priority. The tables test the prediction, against two runs of the same
environment:

* the main run (Algorithm 1's step, the paper's flow), and
* the run with the multiplicative step (group ``step rule``): the flow identity 12
  says the feature run equals, iterate by iterate.

:func:`feature_comparisons` reads, per environment, each claim's verdict on the three
runs (``results/robustness.csv``, the paper's priority definition), the subject's
priority (the number each claim's verdict rests on), and each claimed state's lift and
priority (``results/bottleneck_lift.csv``). Plain data; the template words it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from himo.io import TABLE_DIGITS, cell_number
from himo.verdicts.vocabulary import PAPER_PRIORITY

#: The atlas group of the runs with features (:func:`himo.verdicts.robustness.group_of`).
FEATURES_GROUP = "features"
#: The atlas group of the main runs and of the runs with the multiplicative step.
MAIN_GROUP, STEP_RULE_GROUP = "main", "step rule"
#: Two priorities read from the tables agree when they differ by less than this fraction:
#: what writing each to :data:`himo.io.TABLE_DIGITS` significant digits can move them apart.
TABLE_AGREEMENT = 10.0 ** (1 - TABLE_DIGITS)


@dataclass(frozen=True)
class ClaimBeside:
    """One claim on the three runs: verdicts and the subject's priority (None: no row or number)."""

    claim: str
    verdicts: tuple[str | None, str | None, str | None]  # main, multiplicative, features
    priorities: tuple[float | None, float | None, float | None]


@dataclass(frozen=True)
class LiftBeside:
    """A claimed state on the three runs: its lift and priority (None: off the run's path)."""

    state: str
    lifts: tuple[int | None, int | None, int | None]
    priorities: tuple[float | None, float | None, float | None]


@dataclass(frozen=True)
class FeatureComparison:
    """One environment's feature run beside its main and multiplicative runs."""

    paper_env: str
    features: str  # the feature set, as the run records it
    runs: tuple[str | None, str | None, str]  # env_key of the main, multiplicative and feature runs
    claims: list[ClaimBeside]
    lifts: list[LiftBeside]

    @property
    def moved_verdicts(self) -> list[str]:
        """The claims whose verdict on the feature run differs from the multiplicative run's."""
        return [c.claim for c in self.claims if c.verdicts[2] != c.verdicts[1]]

    @property
    def lifted(self) -> list[str]:
        """The claimed states the feature run lifts further than the multiplicative run."""
        return [l.state for l in self.lifts if None not in (l.lifts[1], l.lifts[2]) and l.lifts[2] > l.lifts[1]]

    @property
    def lowered(self) -> list[str]:
        """The claimed states the feature run lifts less far than the multiplicative run."""
        return [l.state for l in self.lifts if None not in (l.lifts[1], l.lifts[2]) and l.lifts[2] < l.lifts[1]]

    @property
    def same_priorities(self) -> bool:
        """Whether every compared priority is the multiplicative run's to the tables' digits
        (:data:`TABLE_AGREEMENT`)."""
        gap = self.largest_priority_difference
        return gap is not None and gap < TABLE_AGREEMENT

    @property
    def largest_priority_difference(self) -> float | None:
        """The largest relative difference between the feature run's and the multiplicative
        run's priorities, over the claims' subjects and the claimed states (None: nothing to compare)."""
        pairs = [(c.priorities[1], c.priorities[2]) for c in self.claims]
        pairs += [(l.priorities[1], l.priorities[2]) for l in self.lifts]
        gaps = [abs(b - a) / max(abs(a), abs(b)) for a, b in pairs if a is not None and b is not None
                and max(abs(a), abs(b)) > 0]
        return max(gaps) if gaps else None


def feature_comparisons(robustness: Sequence[dict], lift: Sequence[dict], claim_order: Sequence[str]
                        ) -> list[FeatureComparison]:
    """One :class:`FeatureComparison` per feature run of ``robustness`` (rows of
    results/robustness.csv, as read), in the table's order; ``lift`` are the rows of
    results/bottleneck_lift.csv, ``claim_order`` the claims in the registry's order."""
    paper = [row for row in robustness if row["priority"] == PAPER_PRIORITY]
    feature_runs = list(dict.fromkeys((row["paper_env"], row["env_key"], row["features"]) for row in paper
                                      if row["group"] == FEATURES_GROUP))
    return [_comparison(env, key, features, paper, lift, claim_order) for env, key, features in feature_runs]


def _comparison(paper_env: str, key: str, features: str, paper: Sequence[dict], lift: Sequence[dict],
                claim_order: Sequence[str]) -> FeatureComparison:
    def run_of(group: str) -> str | None:
        keys = sorted({row["env_key"] for row in paper if row["paper_env"] == paper_env and row["group"] == group
                       and (group != STEP_RULE_GROUP or row["method"] == "multiplicative")})
        return keys[0] if keys else None
    runs = (run_of(MAIN_GROUP), run_of(STEP_RULE_GROUP), key)
    rows = {(row["env_key"], row["claim"]): row for row in paper}
    claims = []
    for claim in claim_order:
        found = [rows.get((run, claim)) for run in runs]
        if found[2] is None:
            continue
        claims.append(ClaimBeside(claim, tuple(r["verdict"] if r else None for r in found),
                                  tuple(cell_number(r["subject_priority"]) if r else None for r in found)))
    by_run = {}
    for row in lift:
        if not row["role"].startswith("before "):
            by_run.setdefault(row["run"], {})[row["state"]] = row
    states = list(dict.fromkeys(by_run.get(key, {})))
    lifts = []
    for state in states:
        found = [by_run.get(run, {}).get(state) for run in runs]
        lifts.append(LiftBeside(state, tuple(int(r["lift"]) if r and r["lift"] else None for r in found),
                                tuple(cell_number(r["priority"]) if r and r["on_path"] == "true" else None
                                      for r in found)))
    return FeatureComparison(paper_env, features, runs, claims, lifts)
