"""The one MDP model of himo, in the state-action-pairs formulation.

A finite MDP (paper section 2) has states ``s_i`` (``i = 0..n_states-1``), a start
distribution ``p0`` (``p0_i`` is the probability that a path starts in ``s_i``; the
paper's single start state ``s_0`` is the one-hot ``p0``) and, in each state, a set
of available actions ``A_i`` that may differ in size from state to state. Following QuantEcon's ``DiscreteDP``, the available
state-action pairs get one flat index ``x = (ij)`` (Algorithm 1's univariate index),
and the dynamics are a sparse ``(n_pairs, n_states)`` matrix

    P[x, k] = p_ijk = P(s_k | s_i, a_j)          for the pair x = (i, j),

so that no dense ``n_states x n_actions x n_states`` tensor is ever needed. Rewards
are expected rewards per pair, ``R[x] = sum_k p_ijk R(s_i, a_j, s_k)``.

Pairs are stored state-major and, within a state, in the order of the global action
vocabulary ``action_labels``. Every rule is checked once, in the constructor, and an
error names the rule and the state or pair that broke it.

Plotting metadata is optional and never used by the solver:

``layout``
    ``(n_states, 2)`` coordinates for drawing the state graph (x to the right, y up).
``roles``
    named boolean masks over states, such as ``goal``, ``bottleneck``,
    ``wormhole_entrance``; the role ``start`` is derived from ``p0``.
``cluster``
    an integer label per state (``-1`` where none), such as Hanoi's Sierpinski
    clusters.
``walls``
    for grid worlds, the ``(rows, cols)`` boolean wall mask; with ``cells``, the
    ``(n_states, 2)`` row and column of each state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Mapping

import numpy as np
import scipy.sparse as sp

from himo.errors import MDPError
from himo.tolerances import PROBABILITY_ATOL, differs_from_one

#: :attr:`MDP.action_columns` is kept while ``max |A_i| n_states <= COLUMNS_LIMIT n_pairs``.
COLUMNS_LIMIT = 2


@dataclass(frozen=True, eq=False)
class MDP:
    """A finite MDP with uneven action sets, in the pairs formulation.

    Build one with :meth:`MDP.from_pairs`, which sorts the pairs and validates.
    """

    name: str
    state_labels: tuple[str, ...]
    action_labels: tuple[str, ...]
    pair_state: np.ndarray  # (n_pairs,) int, index into state_labels
    pair_action: np.ndarray  # (n_pairs,) int, index into action_labels
    P: sp.csr_matrix  # (n_pairs, n_states) transition probabilities
    R: np.ndarray  # (n_pairs,) expected reward of each pair
    start_distribution: np.ndarray  # (n_states,) p0, read-only; one-hot for one start state
    layout: np.ndarray | None = None  # (n_states, 2)
    roles: Mapping[str, np.ndarray] = field(default_factory=dict)
    cluster: np.ndarray | None = None  # (n_states,) int, -1 for none
    walls: np.ndarray | None = None  # (rows, cols) bool
    cells: np.ndarray | None = None  # (n_states, 2) row, col
    attrs: Mapping[str, str | int | float] = field(default_factory=dict)

    # ------------------------------------------------------------------ sizes
    @property
    def n_states(self) -> int:
        return len(self.state_labels)

    @property
    def n_actions(self) -> int:
        return len(self.action_labels)

    @property
    def n_pairs(self) -> int:
        return len(self.pair_state)

    @property
    def n_free(self) -> int:
        """Number of free preferences: one per pair, less one per state (Eq. 3-4)."""
        return self.n_pairs - self.n_states

    # -------------------------------------------------------------- structure
    @property
    def state_offsets(self) -> np.ndarray:
        """``(n_states + 1,)``: the pairs of state i are ``offsets[i]:offsets[i+1]``."""
        return self._offsets.copy()

    @property
    def actions_per_state(self) -> np.ndarray:
        """``(n_states,)`` the size ``|A_i|`` of each state's action set."""
        return self._counts.copy()

    @cached_property
    def action_columns(self) -> np.ndarray | None:
        """``(k, n_states)``, read-only: row ``j`` holds the pair of each state's
        ``j``-th action (its last one where it has fewer than ``k = max |A_i|``), so
        that a per-state maximum or choice is ``k`` vectorized passes over states;
        ``None`` when the action sets are so uneven that ``k n_states`` exceeds
        :data:`COLUMNS_LIMIT` times ``n_pairs``."""
        k = int(self._counts.max())
        if k * self.n_states > COLUMNS_LIMIT * self.n_pairs:
            return None
        columns = np.minimum(self._offsets[:-1] + np.arange(k)[:, None], self._offsets[1:] - 1)
        columns.flags.writeable = False
        return columns

    # Cached once per MDP (the dataclass is frozen; ``cached_property`` writes to
    # the instance ``__dict__``). The public properties above hand out copies.
    @cached_property
    def _counts(self) -> np.ndarray:
        counts = np.bincount(self.pair_state, minlength=self.n_states)
        counts.flags.writeable = False
        return counts

    @cached_property
    def _offsets(self) -> np.ndarray:
        offsets = np.concatenate([[0], np.cumsum(self._counts)])
        offsets.flags.writeable = False
        return offsets

    def available(self) -> np.ndarray:
        """``(n_states, n_actions)`` boolean mask of available actions."""
        mask = np.zeros((self.n_states, self.n_actions), dtype=bool)
        mask[self.pair_state, self.pair_action] = True
        return mask

    def pair_index(self, state: int | str, action: int | str) -> int:
        """The flat index of the pair (state, action), by index or label."""
        s = self.state_index(state)
        a = action if isinstance(action, (int, np.integer)) else self.action_labels.index(action)
        lo, hi = self.state_offsets[s], self.state_offsets[s + 1]
        hits = np.flatnonzero(self.pair_action[lo:hi] == a)
        if hits.size == 0:
            raise MDPError(
                f"action {self.action_labels[a]!r} is not available in state "
                f"{self.state_labels[s]!r}"
            )
        return int(lo + hits[0])

    def state_index(self, state: int | str) -> int:
        if isinstance(state, (int, np.integer)):
            return int(state)
        try:
            return self.state_labels.index(state)
        except ValueError:
            raise MDPError(f"no state labelled {state!r} in MDP {self.name!r}") from None

    # ------------------------------------------------------------------ start
    @property
    def start_states(self) -> np.ndarray:
        """The indices of the states a path may start in (``p0_i > 0``), ascending."""
        return np.flatnonzero(self.start_distribution)

    @property
    def start(self) -> int:
        """The start state ``s_0`` when paths start in one state (``p0`` one-hot).

        Raises :class:`MDPError` when ``p0`` spreads over several states: code that
        needs one start state cannot silently pick one of them.
        """
        states = self.start_states
        if states.size != 1:
            raise MDPError(
                f"MDP {self.name!r} starts from a distribution over {states.size} states, "
                f"not from one start state"
            )
        return int(states[0])

    @property
    def path_start(self) -> int:
        """The state the optimal path starts from (:func:`path_start`): the start
        state, or with several the most probable one."""
        return path_start(self.start_distribution)

    def role(self, name: str) -> np.ndarray:
        """Boolean mask of the states with a role (:func:`role_mask`); the role
        ``start`` holds the states a path may start in (``p0_i > 0``)."""
        return role_mask(self.roles, name, self.n_states, self.start_states)

    def state_transitions(self, policy: np.ndarray) -> sp.csr_matrix:
        """``T_ik = sum_j pi_ij p_ijk`` (Algorithm 1), sparse ``(n_states, n_states)``.

        ``policy`` is the ``(n_pairs,)`` vector of pair probabilities. Entries that
        are exactly 0 (from zero policy entries) are not stored. The sparsity
        pattern of ``T`` is worked out once per MDP; each call only sums
        ``pi_ij p_ijk`` into it, in pair order (the order of ``pick @ P``).
        """
        s = self._transition_structure
        # copies of the cached index arrays: the caller owns the matrix it gets
        T = sp.csr_matrix((self._transition_values(policy), s.t_indices.copy(), s.t_indptr.copy()),
                          shape=(self.n_states, self.n_states))
        if s.nnz_t and not T.data.all():
            T.eliminate_zeros()
        return T

    def transition_graph(self) -> sp.csr_matrix:
        """``(n_states, n_states)``, stored (and positive) at ``(i, k)`` exactly when some
        action moves ``s_i`` to ``s_k`` with positive probability: :meth:`state_transitions`
        of the policy that weighs every pair 1. The graph of reachability, distances and
        neighbours."""
        return self.state_transitions(np.ones(self.n_pairs))

    def system_matrix(self, policy: np.ndarray, lam: float) -> sp.csc_matrix:
        """``I - lambda T_pi`` in CSC form with sorted indices, the matrix of the
        evaluation solves; the same matrix, entry for entry, as
        ``(identity - lam * state_transitions(policy)).tocsc()``."""
        s = self._transition_structure
        data = np.zeros(s.a_indices.size)
        data[s.a_of_t] = lam * self._transition_values(policy)
        np.negative(data, out=data)
        data[s.a_diagonal] += 1.0
        A = sp.csc_matrix((data, s.a_indices.copy(), s.a_indptr.copy()), shape=(self.n_states, self.n_states))
        if not data.all():
            A.eliminate_zeros()
        return A

    def _transition_values(self, policy: np.ndarray) -> np.ndarray:
        s = self._transition_structure
        weights = np.asarray(policy, dtype=float)[s.p_rows] * self.P.data
        return np.bincount(s.t_of_p, weights=weights, minlength=s.nnz_t)

    @cached_property
    def _transition_structure(self) -> "_TransitionStructure":
        return _TransitionStructure.of(self)

    def uniform_policy(self) -> np.ndarray:
        """The uniform prior of Eq. 22, ``pi_ij = 1 / |A_i|``, as a pairs vector."""
        return 1.0 / self.actions_per_state[self.pair_state]

    # ------------------------------------------------------------ construction
    @classmethod
    def from_pairs(
        cls,
        *,
        name: str,
        state_labels,
        action_labels,
        pair_state,
        pair_action,
        P,
        R,
        start: int | str | None = None,
        start_distribution=None,
        **metadata,
    ) -> "MDP":
        """Build and validate an MDP; pairs may come in any order.

        ``P`` is anything ``scipy.sparse.csr_matrix`` accepts, of shape
        ``(n_pairs, n_states)``; ``R`` the expected reward per pair. Give exactly
        one of ``start`` (the start state, by index or label) and
        ``start_distribution`` (``p0``, one probability per state).
        """
        state_labels = tuple(str(s) for s in state_labels)
        action_labels = tuple(str(a) for a in action_labels)
        pair_state = np.asarray(pair_state, dtype=np.int64)
        pair_action = np.asarray(pair_action, dtype=np.int64)
        R = np.asarray(R, dtype=float)
        P = sp.csr_matrix(P, dtype=float)
        _check_labels(name, "state", state_labels)
        _check_labels(name, "action", action_labels)
        _check_pair_arrays(name, state_labels, action_labels, pair_state, pair_action, P, R)
        order = np.lexsort((pair_action, pair_state))
        if np.any(order != np.arange(order.size)):
            pair_state, pair_action = pair_state[order], pair_action[order]
            P, R = P[order], R[order]
        P.sum_duplicates()
        P.eliminate_zeros()
        p0 = _start_distribution(name, state_labels, start, start_distribution)
        mdp = cls(
            name=name,
            state_labels=state_labels,
            action_labels=action_labels,
            pair_state=pair_state,
            pair_action=pair_action,
            P=P,
            R=R,
            start_distribution=p0,
            **_normalised_metadata(f"MDP {name!r}", metadata, len(state_labels)),
        )
        mdp.validate()
        return mdp

    def validate(self) -> None:
        """Check every structural rule; raise :class:`MDPError` naming the first broken."""
        where = f"MDP {self.name!r}"
        _check_start_distribution(where, self.state_labels, self.start_distribution)
        counts = self.actions_per_state
        if np.any(counts == 0):
            s = int(np.flatnonzero(counts == 0)[0])
            raise MDPError(f"{where}: state {self.state_labels[s]!r} has no available action")
        keys = self.pair_state * self.n_actions + self.pair_action
        if np.any(np.diff(keys) == 0):
            x = int(np.flatnonzero(np.diff(keys) == 0)[0])
            raise MDPError(f"{where}: pair {self._pair_name(x)} is given twice")
        if self.P.nnz and self.P.data.min() < 0:
            x = int(np.searchsorted(self.P.indptr, np.argmin(self.P.data), side="right") - 1)
            raise MDPError(f"{where}: pair {self._pair_name(x)} has a negative probability")
        if not np.all(np.isfinite(self.P.data)):
            raise MDPError(f"{where}: transition probabilities are not all finite")
        sums = np.asarray(self.P.sum(axis=1)).ravel()
        bad = np.flatnonzero(differs_from_one(sums))
        if bad.size:
            x = int(bad[0])
            raise MDPError(
                f"{where}: probabilities of pair {self._pair_name(x)} sum to "
                f"{sums[x]:.6g}, not 1 ({bad.size} pair(s) affected)"
            )
        if not np.all(np.isfinite(self.R)):
            x = int(np.flatnonzero(~np.isfinite(self.R))[0])
            raise MDPError(f"{where}: reward of pair {self._pair_name(x)} is not finite")

    def _pair_name(self, x: int) -> str:
        s, a = self.pair_state[x], self.pair_action[x]
        return f"(s={self.state_labels[s]}, a={self.action_labels[a]})"

    def __repr__(self) -> str:
        return (
            f"MDP({self.name!r}, n_states={self.n_states}, n_actions={self.n_actions}, "
            f"n_pairs={self.n_pairs}, start={self._start_name()})"
        )

    def _start_name(self) -> str:
        states = self.start_states
        if states.size == 1:
            return repr(self.state_labels[states[0]])
        return f"<distribution over {states.size} states>"


@dataclass(frozen=True)
class _TransitionStructure:
    """The sparsity pattern of ``T_pi`` and of ``I - lambda T_pi``, which no policy
    changes: per nonzero of ``P`` its pair row and its entry of ``T``; ``T`` in CSR
    and ``I - lambda T`` in CSC (``T``'s pattern plus the diagonal), both with
    sorted indices, and where ``T``'s entries and the diagonal sit in the latter."""

    p_rows: np.ndarray  # (nnz(P),) the pair row of each nonzero of P
    t_of_p: np.ndarray  # (nnz(P),) its entry of T
    nnz_t: int
    t_indices: np.ndarray
    t_indptr: np.ndarray
    a_indices: np.ndarray
    a_indptr: np.ndarray
    a_of_t: np.ndarray  # (nnz(T),) position of each T entry in I - lambda T
    a_diagonal: np.ndarray  # (n_states,) position of each diagonal entry

    @classmethod
    def of(cls, mdp: "MDP") -> "_TransitionStructure":
        n = mdp.n_states
        P = mdp.P
        index = np.int32 if max(n, P.nnz + n) < np.iinfo(np.int32).max else np.int64
        p_rows = np.repeat(np.arange(mdp.n_pairs), np.diff(P.indptr))
        t_keys, t_of_p = np.unique(mdp.pair_state[p_rows] * n + P.indices, return_inverse=True)
        t_row, t_col = np.divmod(t_keys, n)
        t_indptr = np.searchsorted(t_row, np.arange(n + 1)).astype(index)
        # I - lambda T in CSC = its transpose in CSR: key column-major (col * n + row)
        diagonal = np.arange(n, dtype=np.int64) * (n + 1)
        a_keys = np.union1d(t_col * n + t_row, diagonal)
        a_col, a_row = np.divmod(a_keys, n)
        structure = cls(
            p_rows=p_rows,
            t_of_p=t_of_p.ravel(),
            nnz_t=int(t_keys.size),
            t_indices=t_col.astype(index),
            t_indptr=t_indptr,
            a_indices=a_row.astype(index),
            a_indptr=np.searchsorted(a_col, np.arange(n + 1)).astype(index),
            a_of_t=np.searchsorted(a_keys, t_col * n + t_row),
            a_diagonal=np.searchsorted(a_keys, diagonal),
        )
        for array in vars(structure).values():
            if isinstance(array, np.ndarray):
                array.flags.writeable = False
        return structure


def pair_labels(mdp: MDP, pairs: np.ndarray | None = None) -> list[str]:
    """The labels ``"<state>|<action>"`` of ``pairs`` (default: every pair, in pair order):
    the trajectory's ``pair`` coordinate and a features file's."""
    pairs = np.arange(mdp.n_pairs) if pairs is None else pairs
    return [f"{mdp.state_labels[s]}|{mdp.action_labels[a]}" for s, a in zip(mdp.pair_state[pairs], mdp.pair_action[pairs])]


def path_start(start_distribution: np.ndarray) -> int:
    """The state a path starts from when one path is followed (the optimal path of
    the measures, the claims' and the figures' start): the most probable start
    state; among states whose probability is within
    :data:`~himo.tolerances.PROBABILITY_ATOL` of the largest, the first in state
    order. With one start state, that state.

    Taxi's 300 equally likely start states all qualify, so its path starts in the
    first of them. The one rule of :attr:`MDP.path_start` and of
    :func:`himo.measures.states.start`.
    """
    p0 = np.asarray(start_distribution, dtype=float)
    return int(np.flatnonzero(p0 >= p0.max() - PROBABILITY_ATOL)[0])


def role_mask(roles: Mapping[str, np.ndarray], name: str, n_states: int,
              start_states: np.ndarray | None) -> np.ndarray:
    """The states with the role ``name``, as a boolean mask over the states.

    ``"start"`` is the start states, the indices ``start_states`` (none when it is
    None); any other name is looked up in ``roles``, and a role that is absent holds
    no state. The one rule of :meth:`MDP.role` and of the measures'
    :func:`himo.measures.states.role`.
    """
    if name == "start":
        mask = np.zeros(n_states, dtype=bool)
        if start_states is not None:
            mask[np.asarray(start_states, dtype=int)] = True
        return mask
    if name not in roles:
        return np.zeros(n_states, dtype=bool)
    return np.asarray(roles[name]).astype(bool)


def _check_labels(name: str, kind: str, labels: tuple[str, ...]) -> None:
    if len(labels) == 0:
        raise MDPError(f"MDP {name!r}: there are no {kind}s")
    if len(set(labels)) != len(labels):
        seen: set[str] = set()
        dup = next(lab for lab in labels if lab in seen or seen.add(lab))
        raise MDPError(f"MDP {name!r}: {kind} label {dup!r} is used twice")


def _check_pair_arrays(name, state_labels, action_labels, pair_state, pair_action, P, R):
    where = f"MDP {name!r}"
    n_pairs = pair_state.size
    if pair_action.shape != (n_pairs,) or R.shape != (n_pairs,):
        raise MDPError(
            f"{where}: pair_state, pair_action and R must have one entry per pair "
            f"(got {pair_state.shape}, {pair_action.shape}, {R.shape})"
        )
    if P.shape != (n_pairs, len(state_labels)):
        raise MDPError(
            f"{where}: P must have shape (n_pairs, n_states) = "
            f"({n_pairs}, {len(state_labels)}), got {P.shape}"
        )
    for kind, index, size in (
        ("state", pair_state, len(state_labels)),
        ("action", pair_action, len(action_labels)),
    ):
        if n_pairs and (index.min() < 0 or index.max() >= size):
            raise MDPError(f"{where}: a pair's {kind} index is outside 0..{size - 1}")


def _start_distribution(name: str, state_labels: tuple[str, ...], start, start_distribution) -> np.ndarray:
    """``p0`` from exactly one of a start state (index or label) and a distribution."""
    where = f"MDP {name!r}"
    if (start is None) == (start_distribution is None):
        raise MDPError(f"{where}: give exactly one of start (a state) and start_distribution")
    n_states = len(state_labels)
    if start_distribution is None:
        if isinstance(start, str):
            if start not in state_labels:
                raise MDPError(f"{where}: start state {start!r} is not a state label")
            start = state_labels.index(start)
        if not isinstance(start, (int, np.integer)):
            raise MDPError(f"{where}: start must be a state index or label, got {start!r}")
        if not 0 <= start < n_states:
            raise MDPError(f"{where}: start index {start} is outside 0..{n_states - 1}")
        p0 = np.zeros(n_states)
        p0[int(start)] = 1.0
    else:
        try:
            p0 = np.array(start_distribution, dtype=float)  # a copy: the MDP owns it
        except (TypeError, ValueError):
            raise MDPError(f"{where}: start_distribution must be numbers, one per state") from None
    p0.flags.writeable = False
    return p0


def _check_start_distribution(where: str, state_labels: tuple[str, ...], p0: np.ndarray) -> None:
    """``p0`` is a probability vector over the states: finite, non-negative, summing to 1."""
    if p0.shape != (len(state_labels),):
        raise MDPError(
            f"{where}: start_distribution must have one entry per state ({len(state_labels)}), got shape {p0.shape}"
        )
    bad = np.flatnonzero(~np.isfinite(p0))
    if bad.size:
        raise MDPError(f"{where}: start_distribution of state {state_labels[bad[0]]!r} is not finite")
    bad = np.flatnonzero(p0 < 0)
    if bad.size:
        s = int(bad[0])
        raise MDPError(f"{where}: start_distribution of state {state_labels[s]!r} is negative ({p0[s]:.6g})")
    total = float(p0.sum())
    if total == 0:
        raise MDPError(f"{where}: start_distribution puts no probability on any state")
    if differs_from_one(total):
        raise MDPError(f"{where}: start_distribution sums to {total:.6g}, not 1")


def _normalised_metadata(where: str, metadata: dict, n_states: int) -> dict:
    unknown = set(metadata) - {"layout", "roles", "cluster", "walls", "cells", "attrs"}
    if unknown:
        raise MDPError(f"{where}: unknown MDP metadata field(s): {sorted(unknown)}")
    out = dict(metadata)
    if out.get("layout") is not None:
        out["layout"] = np.asarray(out["layout"], dtype=float)
        if out["layout"].shape != (n_states, 2):
            raise MDPError(f"{where}: layout must have shape ({n_states}, 2), got {out['layout'].shape}")
    roles = {}
    for role, mask in dict(out.get("roles") or {}).items():
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (n_states,):
            raise MDPError(f"{where}: role {role!r} must be a mask of {n_states} states, got {mask.shape}")
        roles[str(role)] = mask
    out["roles"] = roles
    if out.get("cluster") is not None:
        out["cluster"] = np.asarray(out["cluster"], dtype=np.int64)
        if out["cluster"].shape != (n_states,):
            raise MDPError(f"{where}: cluster must have one entry per state, got {out['cluster'].shape}")
    if out.get("walls") is not None:
        out["walls"] = np.asarray(out["walls"], dtype=bool)
    if out.get("cells") is not None:
        out["cells"] = np.asarray(out["cells"], dtype=np.int64)
    out["attrs"] = dict(out.get("attrs") or {})
    return out
