"""Every tolerance by which himo counts two numbers as equal: one rule per meaning.

Each constant says what it ties and why it has its value; docs/MATH.md ("Tolerances
and tie rules") lists them with the tests that check them. The rules are kept
apart where their meanings differ, even at one value:

- probabilities that were *given* (an MDP's transitions and start, a policy passed
  in) are exact up to the rounding of their input: :data:`PROBABILITY_ATOL`;
- probabilities the solver *computed* are compared in two places, with different
  needs: the ``argmax`` dependent rule while a run goes on (:data:`ARGMAX_RTOL`,
  relative, as tight as one linear solve's rounding) and the optimal path of the
  converged policy (:data:`PATH_ACTION_ATOL`, absolute, the rounding of a whole run);
- action values, relative to the scale of the values (:data:`ACTION_VALUE_RTOL`,
  :func:`action_value_atol`);
- a policy divergence that is zero (:data:`PRIORITY_MIN_PD`);
- two priorities that are one time but for round-off (:data:`PRIORITY_RTOL`,
  :func:`same_time`);
- two Kendall taus of the report (:data:`TAU_ATOL`);
- the rank of a log-linear policy's Fisher information (:data:`FISHER_RCOND`).

A different kind of rule is not here: two priorities are ordered or tied by the
resolution of the run's time grid (:func:`himo.measures.orders.precedes`), a
property of each run, not a constant. :data:`PRIORITY_RTOL` is the floor under it:
whatever the grid, priorities equal to round-off are never ordered.

This module imports nothing of himo, so that every module can import it.
"""

from __future__ import annotations

import numpy as np

#: Given probabilities are exact to this (absolute): a pair's transition
#: probabilities, a start distribution and an initial policy each sum to 1 when
#: their total is within it of 1 (:func:`differs_from_one`), and two start
#: probabilities within it of each other are tied (:func:`himo.mdp.path_start`:
#: Taxi's 300 start states of probability 1/300 each). Far above the rounding of a
#: sum of a few hundred probabilities written in decimal (about 1e-14), far below
#: any difference a user means (a probability of 1e-6 is a real one).
PROBABILITY_ATOL = 1e-9

#: The ``argmax`` dependent rule's ties (:func:`himo.solver.policy.dependent_pairs`):
#: actions whose probability is within this fraction of the state's largest count as
#: tied (ties go to the last action). It sees the policy at every iteration, so it must
#: absorb the rounding by which a direct and an iterative linear solve differ (about
#: 1e-13 relative, :mod:`himo.solver.linear`), which would otherwise switch the
#: dependent action and with it the run's iterates. It is also how far ``r_ij = pi_ij / pi_iw``
#: may exceed 1 (Eq. 19 keeps its digits while ``r_ij`` stays near 1 or below).
ARGMAX_RTOL = 1e-9

#: The optimal path's ties (:func:`himo.measures.dataset.path_actions`): actions of the
#: *converged* policy whose probability is within this (absolute) of the state's
#: largest are tied, and the first in action order is taken. Equally good actions keep
#: equal probability under the policy flow only up to the rounding gathered over a
#: whole run (thousands of steps), which is larger than one step's, so this is looser
#: than :data:`ARGMAX_RTOL`; a converged policy's real differences are of order 1.
#: Not merged with :data:`ARGMAX_RTOL`: that rule decides the run itself, this one
#: only reads its end.
PATH_ACTION_ATOL = 1e-6

#: Two action values closer than this, relative to the reward scale
#: ``max|R| / (1 - lambda)`` (the largest value an action can have), are tied, both
#: best (:func:`action_value_atol`): the optimal actions of ``Q*``, the greedy actions
#: of the DP order's sweeps, the best actions of the prior's rate, and the ties of the
#: gap and rate orders (:mod:`himo.solver.value_iteration`,
#: :mod:`himo.measures.dataset`). A guard against the rounding of computed values,
#: far below any real difference.
ACTION_VALUE_RTOL = 1e-9

#: A state whose policy divergence (nats) never exceeds this has no priority: its
#: local policy never moved (:func:`himo.measures.dataset.priority`). Far above the
#: rounding of a PD that is 0 (a single-action state's is exactly 0, an unmoved
#: policy's terms cancel to about 1e-16), and about the PD of a probability change
#: of 1e-6 (``KL ~ 2 delta^2`` between two actions), so every state whose policy
#: visibly moved has a priority.
PRIORITY_MIN_PD = 1e-12

#: Two priorities (planning times) within this fraction of the larger are one time
#: (:func:`same_time`): they differ by round-off only. States that are symmetric in the
#: environment have the same priority, computed by different sums: the Tower of Hanoi's
#: 210 and 201 settle at 1.72813 with a relative difference of about 3e-15, on
#: whichever side the rounding fell (201 first in one run, 210 in its twin). Such
#: priorities are never ordered (:func:`himo.measures.orders.precedes` orders two
#: priorities only when they differ by more than this, whatever the time grid), and
#: where one state is picked among priorities (a claim's rival, the earliest or latest
#: other state) all those at the same time are named (:func:`himo.measures.orders.earliest`,
#: :func:`himo.measures.orders.latest`). Far above the rounding of those sums (about
#: 1e-14 relative) and far below the spacing of a grid of unhalved steps (0.03 at a time
#: of 1e5 is 3e-7 relative). It matters where steps were halved many times: the fixed
#: dependent rule's stall (docs/MATH.md, section 6) spaces its grid by 6e-12 of the time,
#: finer than the digits a priority located on it by finite differences has.
PRIORITY_RTOL = 1e-9

#: Two Kendall taus within this of each other are the same (the replication report's
#: comparison of a reference order's tau with the DP order's, run by run). The taus
#: are read from ``results/baselines.csv``, written to 6 significant digits: equal
#: taus read back exactly equal and different ones differ by far more than this, so
#: it only keeps the comparison of floats from resting on exact equality.
TAU_ATOL = 1e-9

#: The rank of the feature Fisher information of a log-linear policy (docs/MATH.md,
#: identity 12): its natural direction ``I_theta^+ g_theta`` is solved as the
#: minimum-norm least-squares solution of ``M w = b`` with ``M^T M = I_theta``
#: (``himo.solver.features.natural_feature_direction``), and a singular value of ``M``
#: below this times the largest is taken for zero: a direction of ``theta`` that changes
#: the path distribution by less than that, relative, is a null direction of
#: ``I_theta``, as the directions of states the start never reaches are exactly. Working
#: with ``M`` (singular values the square roots of ``I_theta``'s eigenvalues) keeps
#: eigenvalues down to ``1e-24`` of the largest; ``1e-12`` is far above the rounding of
#: ``M``'s factorization (about ``1e-15`` relative) and far below any occupancy a run
#: means (a state visited ``1e-12`` times as often as the busiest one).
FISHER_RCOND = 1e-12


def differs_from_one(totals):
    """Where a total of given probabilities is not 1: farther than
    :data:`PROBABILITY_ATOL` from it (a bool, or a bool array for an array of totals).
    A NaN total does not differ: callers check that the probabilities are finite first."""
    return np.abs(np.asarray(totals, dtype=float) - 1.0) > PROBABILITY_ATOL


def same_time(a, b):
    """Priorities ``a`` and ``b`` are one time but for round-off: ``|a - b|`` at most
    :data:`PRIORITY_RTOL` times the larger of ``|a|``, ``|b|`` (a bool, or a bool array:
    broadcasts). Equal values, and so two zeros, are one time."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    out = np.abs(a - b) <= PRIORITY_RTOL * np.maximum(np.abs(a), np.abs(b))
    return bool(out) if out.ndim == 0 else out


def action_value_atol(mdp, lam: float) -> float:
    """Action values of ``mdp`` at foresight ``lam`` closer than this are tied:
    :data:`ACTION_VALUE_RTOL` times the reward scale ``max|R| / (1 - lambda)``."""
    return ACTION_VALUE_RTOL * max(float(np.abs(mdp.R).max()), 1e-300) / (1 - lam)
