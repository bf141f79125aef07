"""Shared fixtures: small random MDPs with uneven action sets, and random policies.

Every builder takes an explicit seed, so that each test is deterministic.
"""

from __future__ import annotations

import numpy as np
import pytest

from himo.mdp import MDP


def build_random_mdp(
    seed: int = 0,
    action_counts: tuple[int, ...] = (3, 1, 2, 4),
    n_actions: int = 5,
    zero_fraction: float = 0.3,
    unreachable: tuple[int, ...] = (),
    name: str = "random",
    start_distribution=None,
) -> MDP:
    """A random MDP: ``len(action_counts)`` states, state i has ``action_counts[i]`` actions.

    Each state's actions are a random subset of an ``n_actions`` vocabulary (so the
    available actions are not always the first ones), transitions are stochastic
    (Dirichlet rows with about ``zero_fraction`` of the entries zeroed, at least one
    kept), and expected rewards are standard normal. The pairs are handed to
    :meth:`MDP.from_pairs` in shuffled order, so that its sorting is exercised.

    States in ``unreachable`` receive no transition from any other state: the start
    never reaches them (``D_0i = 0``), though they keep their own actions. Every
    other state is made reachable from state 0 by a chain of transitions. Paths start
    in state 0, or from ``start_distribution`` when one is given.
    """
    rng = np.random.default_rng(seed)
    n_states = len(action_counts)
    assert 0 not in unreachable and max(action_counts) <= n_actions
    pair_state, pair_action = [], []
    for s, count in enumerate(action_counts):
        actions = np.sort(rng.choice(n_actions, size=count, replace=False))
        pair_state += [s] * count
        pair_action += list(actions)
    pair_state, pair_action = np.array(pair_state), np.array(pair_action)
    n_pairs = pair_state.size
    P = rng.dirichlet(np.ones(n_states), size=n_pairs)
    P[rng.random(P.shape) < zero_fraction] = 0.0
    reachable = [s for s in range(n_states) if s not in unreachable]
    # a chain start -> next reachable state -> ... keeps every other state reachable
    for here, there in zip(reachable[:-1], reachable[1:]):
        P[np.flatnonzero(pair_state == here)[0], there] += 0.5
    for s in unreachable:
        P[pair_state != s, s] = 0.0
    empty = P.sum(axis=1) == 0
    P[empty, pair_state[empty]] = 1.0
    P /= P.sum(axis=1, keepdims=True)
    R = rng.normal(size=n_pairs)
    order = rng.permutation(n_pairs)
    return MDP.from_pairs(
        name=name,
        state_labels=[f"s{i}" for i in range(n_states)],
        action_labels=[f"a{j}" for j in range(n_actions)],
        pair_state=pair_state[order],
        pair_action=pair_action[order],
        P=P[order],
        R=R[order],
        **({"start": 0} if start_distribution is None else {"start_distribution": start_distribution}),
    )


def build_random_policy(mdp: MDP, seed: int = 0, concentration: float = 2.0, floor: float = 0.05) -> np.ndarray:
    """A random strictly positive policy (every probability at least about ``floor / |A_i|``)."""
    rng = np.random.default_rng(seed)
    weights = rng.gamma(concentration, size=mdp.n_pairs)
    sums = np.bincount(mdp.pair_state, weights=weights, minlength=mdp.n_states)
    policy = weights / sums[mdp.pair_state]
    counts = mdp.actions_per_state[mdp.pair_state]
    return (1 - floor) * policy + floor / counts


@pytest.fixture(scope="session")
def random_mdp():
    """The builder :func:`build_random_mdp`: ``random_mdp(seed=..., action_counts=...)``."""
    return build_random_mdp


@pytest.fixture(scope="session")
def random_policy():
    """The builder :func:`build_random_policy`: ``random_policy(mdp, seed=...)``."""
    return build_random_policy


def dense_value_iteration(P: np.ndarray, R: np.ndarray, lam: float, sweeps: int = 5000) -> np.ndarray:
    """``V*`` by plain value iteration ``V <- max_a (R + lam P V)`` on dense arrays,
    independent of himo: ``P`` is ``(S, A, S)``, ``R`` is ``(S, A)`` with ``-inf``
    where an action is not available. ``sweeps`` bounds the error by ``lam**sweeps``."""
    V = np.zeros(P.shape[0])
    for _ in range(sweeps):
        V = np.max(R + lam * (P @ V), axis=1)
    return V


def dense_arrays(mdp: MDP) -> tuple[np.ndarray, np.ndarray]:
    """The MDP as dense ``P (S, A, S)`` and ``R (S, A)``, ``-inf`` where unavailable."""
    P = np.zeros((mdp.n_states, mdp.n_actions, mdp.n_states))
    R = np.full((mdp.n_states, mdp.n_actions), -np.inf)
    P[mdp.pair_state, mdp.pair_action] = mdp.P.toarray()
    R[mdp.pair_state, mdp.pair_action] = mdp.R
    return P, R


@pytest.fixture(scope="session")
def dense_optimum():
    """``dense_optimum(mdp, lam)``: ``V*`` by :func:`dense_value_iteration`."""
    return lambda mdp, lam: dense_value_iteration(*dense_arrays(mdp), lam)


@pytest.fixture(scope="session")
def hanoi():
    from himo import make_env

    return make_env("hanoi")


@pytest.fixture
def run_entry():
    """One run of ``himo run --runs``: ``run_entry(tmp_path, name, **solver settings)``, a
    small Hanoi run whose files are named after ``name`` (paper environment hanoi)."""
    def entry(tmp_path, name, **settings):
        return {"trajectory": str(tmp_path / f"{name}-t.nc"), "measures": str(tmp_path / f"{name}-m.nc"),
                "settings": {"lam": 0.9, "method": "natural", "step": 0.2, "max_iter": 150, **settings},
                "provenance": {"env_key": name, "paper_env": "hanoi", "config": {"solver": settings}}}

    return entry
