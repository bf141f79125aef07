"""What a claim's rule says of orders that are not HIMO's: the DP order and random orders.

A verdict is only as strong as its alternatives. A claim about *which states come
first* (H1, H2, H3, R1, W2: the claims whose rule reads the priority order, each
:class:`~himo.verdicts.judging.Claim` with ``order_based``) is judged again on its
main run with the run's own on-path priorities handed out in another order:

* **the DP order** (``dp_order_passes``): the earliest priority to the state dynamic
  programming settles first (``dp_priority``, the value-iteration sweep from which
  the state's greedy action is final; the state nearer the goal first where two
  share a sweep), the next to the next, and so on. A claim the DP order passes is
  what value propagation predicts anyway: passing it, alone, does not show a
  hierarchy.
* **random orders** (``null_pass_rate``): the on-path priorities handed out in a
  uniformly random order; the fraction of orders the rule replicates, and the
  fraction it gives each verdict (``null_verdicts``). Exact, over every order, when
  there are at most :data:`NULL_SAMPLES` of them; otherwise from
  :data:`NULL_SAMPLES` orders drawn with the seed :data:`NULL_SEED`, with the
  binomial standard error ``sqrt(p (1 - p) / n)``.

Only the on-path states' priorities move, and only among themselves: the values
(so the time grid's resolution between any two, and so the ties of
:func:`himo.measures.orders.precedes`), the off-path states' priorities, the path
and every other variable stay the run's. A claim whose rule does not read the
order (H4 reads CD, W1 the route, G1 the values and policies) has no null: it would
pass or fail every order alike.
"""

from __future__ import annotations

import math
from itertools import permutations

import numpy as np
import xarray as xr

from himo.measures import states
from himo.verdicts.judging import REPLICATED, VERDICTS, Claim, NotEvaluable, NOT_EVALUATED, priorities

#: Random orders drawn per claim when there are more orders than this (else every
#: order is judged): the standard error of a pass rate is then at most 1/(2 sqrt(n)).
NULL_SAMPLES = 500
#: The seed of the random orders (numpy's default_rng), so that the same runs give
#: the same rates.
NULL_SEED = 1912_01448


def ranked_states(ds: xr.Dataset) -> np.ndarray:
    """The on-path states with a priority, in path order (start first)."""
    prio = priorities(ds)
    return np.array([int(s) for s in states.optimal_path(ds) if np.isfinite(prio[s])], dtype=int)


def dp_order(ds: xr.Dataset, ranked: np.ndarray) -> np.ndarray:
    """``ranked`` in the order dynamic programming settles them: by ``dp_priority``,
    the state nearer the goal (later on the path) first where two share a sweep."""
    dp = np.asarray(ds["dp_priority"].values, dtype=float)[ranked]
    position = np.arange(ranked.size)
    return ranked[np.lexsort((-position, dp))]


class OrderedRun:
    """A copy of a run whose on-path priorities can be handed out in any order.

    The copy is loaded into memory once (a rule that reads a series, such as W3's CD~,
    reads it from there on every order); :meth:`verdict` assigns the run's sorted
    on-path priorities to the states of an order, the earliest to the first, and
    decides the claim on it.
    """

    def __init__(self, ds: xr.Dataset, others: tuple = ()):
        self.others = others  # the decision function's other arguments (a reference run)
        self.ranked = ranked_states(ds)
        prio = priorities(ds)
        self.values = np.sort(prio[self.ranked])
        self.ds = ds.assign(priority=("state", prio.copy(), ds["priority"].attrs)).load()
        self._priority = self.ds["priority"].values

    def verdict(self, claim: Claim, order: np.ndarray) -> str:
        self._priority[order] = self.values
        try:
            return claim.decide(self.ds, *self.others)[0]
        except NotEvaluable:
            return NOT_EVALUATED


def null_judgement(claim: Claim, ds: xr.Dataset, samples: int = NULL_SAMPLES, seed: int = NULL_SEED,
                   others: tuple = ()) -> dict:
    """The DP order's verdict and the random orders' verdicts of ``claim`` on its main
    run ``ds`` (module docstring; ``others``: the decision function's other arguments);
    ``{}`` for a claim that is not order-based. A run
    without ``dp_priority`` (measured before it was stored) has no DP verdict (None)."""
    if not claim.order_based:
        return {}
    run = OrderedRun(ds, others)
    n = run.ranked.size
    dp_verdict = run.verdict(claim, dp_order(ds, run.ranked)) if "dp_priority" in ds else None
    exact = math.factorial(n) <= samples
    if exact:
        orders = (run.ranked[list(p)] for p in permutations(range(n)))
    else:
        rng = np.random.default_rng(seed)
        orders = (rng.permutation(run.ranked) for _ in range(samples))
    counts = dict.fromkeys(VERDICTS, 0)
    for order in orders:
        counts[run.verdict(claim, order)] += 1
    total = sum(counts.values())
    rate = counts[REPLICATED] / total
    return {
        "dp_order_verdict": dp_verdict,
        "dp_order_passes": None if dp_verdict is None else dp_verdict == REPLICATED,
        "null_pass_rate": rate,
        "null_standard_error": 0.0 if exact else math.sqrt(rate * (1 - rate) / total),
        "null_verdicts": {verdict: count / total for verdict, count in counts.items() if count},
        "null_orders": total,
        "null_method": (f"exact: every order of the {n} on-path states" if exact else
                        f"Monte Carlo: {total} random orders of the {n} on-path states, seed {seed}"),
    }
