"""The DP order and random orders judged by a claim's rule (himo.verdicts.nulls):
exact counts by hand, Monte Carlo against the exact rate, the DP order whatever the
run's own order, and the records of `himo claims`."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

from himo.measures import states
from himo.verdicts import judging, nulls
from himo.verdicts.claims import CLAIMS
from himo.verdicts.judging import NOT, PARTLY, REPLICATED, Claim, priorities

sys.path.insert(0, str(Path(__file__).parents[1] / "plotting"))
from synthetic_baselines import distance_order, run  # noqa: E402


def goal_first(ds):
    """A rule by hand: replicated when the goal has the earliest on-path priority;
    partly when it is second."""
    prio, path = priorities(ds), list(states.optimal_path(ds))
    order = sorted(path, key=lambda s: prio[s])
    goal = path[-1]
    return (REPLICATED if order[0] == goal else PARTLY if order[1] == goal else NOT), {}


def claim(rule=goal_first, order_based=True) -> Claim:
    return Claim(id="X", figure="1", paper_env="hanoi", paper_text="", definition="", decide=rule,
                 order_based=order_based)


def test_exact_rates_by_hand():
    """Six on-path states: the goal is first in 120 of the 720 orders, second in 120."""
    ds = run("hanoi", "hanoi", "natural", 0.9, distance_order("hanoi"))
    judged = nulls.null_judgement(claim(), ds, samples=720)
    assert judged["null_orders"] == 720 and judged["null_method"].startswith("exact")
    assert judged["null_pass_rate"] == 1 / 6 and judged["null_standard_error"] == 0.0
    assert judged["null_verdicts"] == {REPLICATED: 1 / 6, PARTLY: 1 / 6, NOT: 4 / 6}


def test_monte_carlo_agrees_with_the_exact_rate_and_is_deterministic():
    ds = run("hanoi", "hanoi", "natural", 0.9, distance_order("hanoi"))
    first = nulls.null_judgement(claim(), ds, samples=400)
    assert first["null_orders"] == 400 and "Monte Carlo" in first["null_method"]
    se = first["null_standard_error"]
    assert math.isclose(se, math.sqrt(first["null_pass_rate"] * (1 - first["null_pass_rate"]) / 400))
    assert abs(first["null_pass_rate"] - 1 / 6) < 3 * se
    assert nulls.null_judgement(claim(), ds, samples=400) == first
    assert nulls.null_judgement(claim(), ds, samples=400, seed=1) != first


def test_the_dp_order_is_judged_whatever_the_runs_own_order():
    """A run that settles the goal last still has a DP order that settles it first."""
    reversed_order = distance_order("hanoi")[::-1].copy()
    ds = run("hanoi", "hanoi", "natural", 0.9, reversed_order)
    assert goal_first(ds)[0] == NOT
    judged = nulls.null_judgement(claim(), ds, samples=720)
    assert judged["dp_order_verdict"] == REPLICATED and judged["dp_order_passes"] is True
    # the run itself is left as it was
    np.testing.assert_array_equal(priorities(ds)[:6], reversed_order)


def test_dp_order_breaks_equal_sweeps_toward_the_goal():
    ds = run("hanoi", "hanoi", "natural", 0.9, distance_order("hanoi"))
    ds["dp_priority"].values[:6] = [3, 3, 2, 1, 0, 0]  # goal (h5) and h4 share a sweep
    ranked = nulls.ranked_states(ds)
    assert nulls.dp_order(ds, ranked).tolist() == [5, 4, 3, 2, 1, 0]


def test_a_rule_that_does_not_read_the_order_has_no_null():
    ds = run("hanoi", "hanoi", "natural", 0.9, distance_order("hanoi"))
    assert nulls.null_judgement(claim(order_based=False), ds) == {}


def test_the_records_carry_the_nulls_of_the_order_based_claims():
    """judge() puts the nulls beside each judgement: the order-based claims have them,
    H4, W1, G1 and N1 (two runs side by side) do not; the registry says which are which."""
    assert {c.id for c in CLAIMS if not c.order_based} == {"H4", "W1", "G1", "N1"}
    ds = run("hanoi", "hanoi", "natural", 0.9, distance_order("hanoi"))
    record = judging.judge(claim(), [ds])
    assert record["dp_order_passes"] is True and "null_pass_rate" in record
    assert "null_pass_rate" not in judging.judge(claim(order_based=False), [ds])
