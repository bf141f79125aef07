"""Policies as pair vectors, the dependent action of each state, and free preferences.

A policy is the ``(n_pairs,)`` vector ``pi[x] = pi_ij`` of an MDP's pairs, with
action preferences ``A_ij = log pi_ij`` (Eq. 21). One action per state, the
*dependent* action ``w(i)``, is eliminated by normalization (Eq. 3-4):

    A_iw = log(1 - sum_{j != w} exp(A_ij)),

and the other preferences are *free*; ``n_free = n_pairs - n_states``.
"""

from __future__ import annotations

import typing
from typing import Literal

import numpy as np
import scipy.sparse as sp

from himo.errors import ParameterError
from himo.mdp import MDP
from himo.tolerances import ARGMAX_RTOL, differs_from_one

DependentRule = Literal["last", "first", "argmax"]
DEPENDENT_RULES = typing.get_args(DependentRule)


def dependent_pairs(mdp: MDP, rule: DependentRule, policy: np.ndarray | None = None) -> np.ndarray:
    """``(n_states,)`` the pair index of each state's dependent action.

    The rule has no default here: a run's rule is the ``dependent`` setting
    (:class:`himo.solver.settings.SolverSettings`). ``"last"`` takes each state's last available action in the order
    of the ``action`` coordinate, ``"first"`` its first one; both stay fixed for a
    whole run. ``"argmax"`` takes the currently most probable action, re-chosen at
    every iteration: the policy flow does not depend on the choice (docs/MATH.md,
    identity 5), and it keeps ``r_ij = pi_ij / pi_iw <= 1`` (to the tie tolerance
    below). Its ties go to the last action, so that at the uniform prior it starts as
    the ``"last"`` rule: a finite step does depend on the choice (tying to the first
    instead moves the Hanoi reference run's value by up to 2 %). Actions within
    :data:`~himo.tolerances.ARGMAX_RTOL` (relative) of the most probable one count as
    tied, so that rounding-level differences in the policy, such as those between a
    direct and an iterative linear solve, do not change the choice.
    """
    offsets = mdp.state_offsets
    if rule == "last":
        return offsets[1:] - 1
    if rule == "first":
        return offsets[:-1].copy()
    if rule == "argmax":
        if policy is None:
            raise ParameterError("the 'argmax' dependent rule needs the current policy")
        return state_argmax(mdp, policy, rtol=ARGMAX_RTOL, ties="last")
    raise ParameterError(f"dependent must be one of {DEPENDENT_RULES}, got {rule!r}")


def to_state_action(mdp: MDP, pair_values: np.ndarray) -> np.ndarray:
    """Scatter ``(..., n_pairs)`` values into ``(..., n_states, n_actions)``, 0 elsewhere
    (the layout of a trajectory's ``policy``)."""
    pair_values = np.asarray(pair_values)
    out = np.zeros(pair_values.shape[:-1] + (mdp.n_states, mdp.n_actions))
    out[..., mdp.pair_state, mdp.pair_action] = pair_values
    return out


def free_pairs(mdp: MDP, dependent: np.ndarray) -> np.ndarray:
    """``(n_free,)`` the pair indices of the free preferences, in pair order."""
    is_free = np.ones(mdp.n_pairs, dtype=bool)
    is_free[dependent] = False
    return np.flatnonzero(is_free)


def score_projection(mdp: MDP, policy: np.ndarray, dependent: np.ndarray) -> sp.csr_matrix:
    """``B``, sparse ``(n_free, n_pairs)``, with ``d log q / dA_ij = (B n)_ij`` (Eq. 16).

    Row ``(ij)`` has ``+1`` at ``(ij)`` and ``-r_ij = -pi_ij / pi_iw`` at the
    dependent pair ``(i w)``, so that the path gradient (Eq. 18) is ``B C R`` and the
    Fisher information (Eq. 19) is ``B C B^T``.
    """
    free = free_pairs(mdp, dependent)
    w = dependent[mdp.pair_state[free]]
    ratio = policy[free] / policy[w]  # r_ij
    rows = np.arange(free.size)
    return sp.csr_matrix(
        (np.concatenate([np.ones(free.size), -ratio]), (np.concatenate([rows, rows]), np.concatenate([free, w]))),
        shape=(free.size, mdp.n_pairs),
    )


def prior_policy(mdp: MDP, seed: int = 0, concentration: float = 100.0) -> np.ndarray:
    """The policy a run starts from, as a pairs vector: for ``seed = 0`` the uniform
    prior of Eq. 22, ``pi_ij = 1 / |A_i|``; for a positive ``seed`` a prior drawn near it.

    The drawn prior gives each state ``i`` with ``k = |A_i|`` actions the probabilities
    ``pi_i ~ Dirichlet(c/k, ..., c/k)`` (``c = concentration``), independently across
    states: their mean is the uniform prior, and each probability's standard deviation
    is ``sqrt((1/k)(1 - 1/k) / (c + 1))``. The draw is ``Gamma(c/k)`` per pair in pair
    order, normalized per state (the Dirichlet distribution's construction), by
    ``numpy.random.default_rng(seed)``: the same seed gives the same prior on the same
    MDP, bit for bit, with the pinned NumPy. A state with one action keeps probability 1.
    Every probability is positive (a Gamma variate of positive shape is, and Eq. 21
    takes the log); a draw that underflows to 0 (a concentration so small that the
    prior is nearly deterministic) is an error naming the state.
    """
    if seed == 0:
        return mdp.uniform_policy()
    shape = concentration / mdp.actions_per_state[mdp.pair_state]
    draws = np.random.default_rng(seed).standard_gamma(shape)
    with np.errstate(invalid="ignore"):  # a state whose draws all underflow: 0/0, named below
        policy = draws / state_sums(mdp, draws)[mdp.pair_state]
    if np.any(policy <= 0) or not np.all(np.isfinite(policy)):
        worst = mdp.pair_state[np.flatnonzero(~(policy > 0))[0]]
        raise ParameterError(
            f"prior_concentration {concentration:g} is too small: the prior drawn with seed {seed} gives an "
            f"action of state {mdp.state_labels[worst]!r} probability 0 (Eq. 21 takes its log)")
    return policy


def validate_policy(mdp: MDP, policy: np.ndarray, where: str = "initial policy") -> np.ndarray:
    """Check that ``policy`` is a strictly positive policy over ``mdp``'s pairs."""
    policy = np.asarray(policy, dtype=float)
    if policy.shape != (mdp.n_pairs,):
        raise ParameterError(f"{where} must have one entry per pair ({mdp.n_pairs}), got {policy.shape}")
    if not np.all(np.isfinite(policy)) or np.any(policy <= 0):
        raise ParameterError(f"{where} must be strictly positive in every pair (Eq. 21 takes its log)")
    sums = state_sums(mdp, policy)
    bad = np.flatnonzero(differs_from_one(sums))
    if bad.size:
        raise ParameterError(
            f"{where}: probabilities in state {mdp.state_labels[bad[0]]!r} sum to {sums[bad[0]]:.6g}, not 1"
        )
    return policy


def state_sums(mdp: MDP, pair_values: np.ndarray) -> np.ndarray:
    """``(n_states,)`` the sum of a pair vector over each state's actions."""
    return np.bincount(mdp.pair_state, weights=pair_values, minlength=mdp.n_states)


def state_max(mdp: MDP, pair_values: np.ndarray) -> np.ndarray:
    """``(n_states,)`` the maximum of a pair vector over each state's actions.

    Where the MDP has :attr:`~himo.mdp.MDP.action_columns`, ``max |A_i|`` vectorized
    passes over the states (faster than ``np.maximum.reduceat`` over the pairs, and
    exactly equal to it); otherwise that reduction.
    """
    columns = mdp.action_columns
    if columns is None:
        return np.maximum.reduceat(pair_values, mdp.state_offsets[:-1])
    return _row_max(pair_values[columns])


def _row_max(rows: np.ndarray) -> np.ndarray:
    """The entrywise maximum of the rows of a ``(k, n)`` array (a new array)."""
    best = rows[0].copy()
    for row in rows[1:]:
        np.maximum(best, row, out=best)
    return best


def state_argmax(mdp: MDP, pair_values: np.ndarray, atol: float = 0.0,
                 ties: Literal["first", "last"] = "first", rtol: float = 0.0) -> np.ndarray:
    """``(n_states,)`` the pair of each state's largest value.

    The one per-state argmax of himo (the greedy policy, the ``argmax`` dependent
    action, the reference action of :func:`~himo.solver.evaluation.advantage`, the
    optimal path of the measures). Among the pairs of state ``i`` whose value is
    within ``atol + rtol |max_i|`` of the state's maximum ``max_i``, it takes the
    first in pair order, which is the order of the ``action`` coordinate;
    ``ties="last"`` takes the last (only the ``argmax`` dependent rule does, see
    :func:`dependent_pairs`). ``pair_values`` must be finite.
    """
    if ties not in ("first", "last"):
        raise ParameterError(f"ties must be 'first' or 'last', got {ties!r}")
    pair_values = np.asarray(pair_values, dtype=float)
    columns = mdp.action_columns
    by_column = None if columns is None else pair_values[columns]  # (k, n_states), gathered once
    best = state_max(mdp, pair_values) if by_column is None else _row_max(by_column)
    if np.isnan(best).any():  # NaN propagates through the maximum
        raise ParameterError("state_argmax: the pair values are not all finite")
    threshold = best - atol - rtol * np.abs(best) if atol or rtol else best
    if columns is None:
        return _argmax_in_pair_order(mdp, pair_values, threshold, ties)
    # Visit the columns so that the wanted pair is the last one to pass; the first
    # visited is taken unchecked: it stands only when no other column passes, and then
    # it is the one that does (every state has a pair at its maximum).
    order = range(columns.shape[0]) if ties == "last" else range(columns.shape[0] - 1, -1, -1)
    first, *rest = order
    picked = columns[first].copy()
    for j in rest:
        np.copyto(picked, columns[j], where=by_column[j] >= threshold)
    return picked


def _argmax_in_pair_order(mdp: MDP, pair_values: np.ndarray, threshold: np.ndarray, ties: str) -> np.ndarray:
    """:func:`state_argmax` over the pairs (for MDPs without action columns)."""
    candidates = np.flatnonzero(pair_values >= threshold[mdp.pair_state])
    states = mdp.pair_state[candidates]
    picked = np.ones(candidates.size, dtype=bool)
    if ties == "first":
        np.not_equal(states[1:], states[:-1], out=picked[1:])
    else:
        np.not_equal(states[:-1], states[1:], out=picked[:-1])
    return candidates[picked]
