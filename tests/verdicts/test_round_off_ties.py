"""Priorities equal but for round-off are one time: no claim or rank orders them, and a
rival among them is all of them (himo.tolerances.PRIORITY_RTOL).

On the real Tower of Hanoi run at foresight 0.9, the states 210 and 201 are mirror
images (the two small disks swapped on the way to peg 2): they settle at one time,
1.72813, computed by different sums, so the floats differ in the 15th digit, on a side
the rounding picks (201 first in the step-cost run). The tests swap that rounding and
check that nothing the claims and the ranks report moves.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

import himo
from himo.measures import orders, states
from himo.measures.dataset import measures_dataset
from himo.tolerances import same_time
from himo.verdicts import claims as C
from himo.verdicts import judging as J
from himo.verdicts import robustness as R


@functools.lru_cache(maxsize=None)
def hanoi_run():
    """The measures of the paper's Hanoi run (natural step 0.1, foresight 0.9)."""
    mdp = himo.make_env("hanoi")
    ds = measures_dataset(himo.solve(mdp, lam=0.9, method="natural", step=0.1), mdp)
    return ds.assign_attrs(env_key="hanoi", paper_env="hanoi")


@pytest.fixture(autouse=True)
def without_nulls(monkeypatch):
    """The claims judged without their nulls (random orders judged a hundred times each:
    seconds, and not what is tested here)."""
    monkeypatch.setattr(J, "null_judgement", lambda claim, arguments: {})


def index(ds, label: str) -> int:
    return states.labels(ds).index(label)


def with_priorities(ds, changes: dict[str, float]):
    """The run with some states' priorities replaced (``{label: priority}``)."""
    prio = ds["priority"].values.copy()
    for label, value in changes.items():
        prio[index(ds, label)] = value
    return ds.assign(priority=("state", prio, ds["priority"].attrs))


def rounded_the_other_way(ds, first: str, second: str):
    """The run with the round-off between two states' priorities the other way round."""
    prio = ds["priority"].values
    return with_priorities(ds, {first: prio[index(ds, second)], second: prio[index(ds, first)]})


def reported(ds) -> dict:
    """What the claims and the ranks say of a run: every claim's verdict and summary
    (priorities to 9 digits: one time is one number), the on-path priority order and
    the rank table."""
    records = J.evaluate_claims(C.CLAIMS, [ds])
    out = {}
    for claim in C.CLAIMS:
        verdict, numbers = records[claim.id]["verdict"], records[claim.id]["numbers"]
        summary = R._summary(claim, numbers) if verdict != J.NOT_EVALUATED else {}
        out[claim.id] = (verdict, {k: round(v, 9) if isinstance(v, float) else v for k, v in summary.items()})
    out["order"] = [row[0] for row in J.on_path_priority_order(ds)]
    out["ranks"] = [(r["state"], r["rank"], r["tied_with"]) for r in R.rank_table([ds], records, C.CLAIMS)]
    return out


def test_the_symmetric_hanoi_states_are_never_ordered():
    ds = hanoi_run()
    prio, time = ds["priority"].values, ds["time"].values
    a, b = prio[index(ds, "210")], prio[index(ds, "201")]
    assert a != b and same_time(a, b)  # different floats, one time
    # no rule orders them: not the run's grid, not a grid as fine as their difference, not an exact order
    fine = np.unique(np.r_[time, np.linspace(min(a, b) - abs(a - b), max(a, b) + abs(a - b), 31)])
    for grid in (time, fine, None):
        assert orders.tied(a, b, grid) and not orders.precedes(a, b, grid) and not orders.precedes(b, a, grid)
    # the ranks among every state with a priority (H1 compares the goal with all of them) are one
    ranked = np.flatnonzero(np.isfinite(prio))
    for grid in (time, fine, None):
        rank = dict(zip(ranked, orders.precedence_ranks(prio[ranked], grid)))
        assert rank[index(ds, "210")] == rank[index(ds, "201")]
    # H1's rival, the earliest state after the goal, is both of them, in state order
    h1 = J.evaluate_claims([C.H1], [ds])["H1"]
    assert h1["verdict"] == J.REPLICATED
    assert h1["numbers"]["earliest_other_state"] == "201 210"
    assert R._summary(C.H1, h1["numbers"])["rival"] == "201 210"
    # and nothing the claims or the ranks report moves when the rounding falls the other way
    assert reported(rounded_the_other_way(ds, "210", "201")) == reported(ds)


@pytest.mark.parametrize("direction", [1, -1], ids=["after", "before"])
def test_a_rival_at_one_time_with_another_names_both(direction):
    """H2's rival (the earliest on-path state after the goal, the bridge aside) is 210;
    give 220, the next on the path, 210's time but for round-off, on either side: the
    rival is both, in path order, and everything else the claims and ranks report is
    what it is with the rounding the other way."""
    ds = hanoi_run()
    a = float(ds["priority"].values[index(ds, "210")])
    tied_run = with_priorities(ds, {"220": a * (1 + direction * 4e-16)})
    assert same_time(a, tied_run["priority"].values[index(ds, "220")])
    h2 = J.evaluate_claims([C.H2], [tied_run])["H2"]["numbers"]
    summary = R._summary(C.H2, h2)
    assert summary["rival"] == "210 220" and summary["rival_priority"] == a
    assert [row[0] for row in h2["on_path_priority_order"]][1:3] == ["210", "220"]  # path order at one time
    assert reported(rounded_the_other_way(tied_run, "210", "220")) == reported(tied_run)
    ranks = {r["state"]: r for r in R.rank_table([tied_run], J.evaluate_claims(C.CLAIMS, [tied_run]), C.CLAIMS)
             if r["priority"] == "peak"}
    assert ranks["210"]["rank"] == ranks["220"]["rank"]
    assert "220" in ranks["210"]["tied_with"].split() and "210" in ranks["220"]["tied_with"].split()
