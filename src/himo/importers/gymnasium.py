"""Gymnasium's tabular environments (FrozenLake, CliffWalking, Taxi, ...) as himo MDPs.

A toy-text environment carries its whole model in ``env.unwrapped.P``::

    P[s][a] = [(probability, next_state, reward, terminated), ...]

and its start distribution in ``env.unwrapped.initial_state_distrib``. himo reads
both (the package is imported only here, and only when asked for):

- the outcomes of a pair ``(s, a)`` that land on the same state are merged (their
  probabilities add up), and the pair's reward is the expected reward
  ``R_(s,a) = sum p r`` over its outcomes;
- a *terminated* outcome ends the path: its reward counts, and after it the path
  stays, with zero reward, in an absorbing state. That state is the landing state
  itself when the path can be there only by terminating (no outcome lands there
  without ``terminated`` and no path starts there: FrozenLake's holes and goal,
  CliffWalking's goal), so that grid worlds keep one state per cell; otherwise it
  is one extra state labelled ``end`` (Taxi, whose drop-off states are also
  reached without terminating). Every other state keeps its value exactly: for
  ``V`` on the env's states, ``Q(s, a) = sum p (r + lambda (1 - terminated) V(s'))``;
- the start distribution is kept as it is (Taxi starts in 300 of its 500 states).

A ``TimeLimit`` wrapper's truncation is not part of the model: himo's foresight
``lambda`` sets the horizon. State labels are the environment's observations
(``"0"``, ``"1"``, ...), so that a himo policy maps onto the environment's states.

FrozenLake and CliffWalking also carry their grid: each state's cell, an open wall
mask, and the roles ``goal``, ``hole`` (FrozenLake) and ``cliff`` (CliffWalking),
with the role ``terminal`` for the absorbing states in every environment.
"""

from __future__ import annotations

import json

import numpy as np
import scipy.sparse as sp

from himo.errors import HimoError
from himo.mdp import MDP
from himo.tolerances import differs_from_one

#: The label of the extra absorbing state that terminated outcomes lead to.
END_STATE = "end"

#: Action names, in the environments' own order (their documentation's Action Space).
ACTION_NAMES = {
    "FrozenLakeEnv": ("LEFT", "DOWN", "RIGHT", "UP"),
    "CliffWalkingEnv": ("UP", "RIGHT", "DOWN", "LEFT"),
    "TaxiEnv": ("SOUTH", "NORTH", "EAST", "WEST", "PICKUP", "DROPOFF"),
}


class GymnasiumError(HimoError):
    """A Gymnasium environment cannot be made or has no tabular model."""


def from_gymnasium(env_or_id, **kwargs) -> MDP:
    """The MDP of a Gymnasium environment with a tabular model ``env.unwrapped.P``.

    ``env_or_id`` is an environment or an id such as ``"FrozenLake-v1"``;
    ``kwargs`` go to ``gymnasium.make`` (``is_slippery=False``, ``map_name="8x8"``).
    """
    if isinstance(env_or_id, str):
        env, env_id = _make(env_or_id, kwargs), env_or_id
        try:
            return _mdp_of(env.unwrapped, env_id, kwargs)
        finally:
            env.close()
    if kwargs:
        raise GymnasiumError(f"keyword arguments {sorted(kwargs)} are for gymnasium.make; "
                             f"pass an environment id with them, or an environment alone")
    spec = getattr(env_or_id, "spec", None)
    return _mdp_of(env_or_id.unwrapped, spec.id if spec else type(env_or_id.unwrapped).__name__, {})


def _make(env_id: str, kwargs: dict):
    try:
        import gymnasium
    except ModuleNotFoundError:
        raise GymnasiumError("gymnasium is not installed (pip install 'himo[gymnasium]')") from None
    try:
        return gymnasium.make(env_id, **kwargs)
    except gymnasium.error.Error as err:  # unknown id, deprecated version, ...
        raise GymnasiumError(f"gymnasium cannot make {env_id!r}: {err}") from None
    except TypeError as err:  # a keyword the environment does not take
        raise GymnasiumError(f"gymnasium.make({env_id!r}, {_call_text(kwargs)}): {err}") from None


def _call_text(kwargs: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())


def _mdp_of(env, env_id: str, kwargs: dict) -> MDP:
    where = f"gymnasium {env_id}"
    P = getattr(env, "P", None)
    if not isinstance(P, dict) or not P:
        raise GymnasiumError(f"{where} has no tabular model env.unwrapped.P (himo imports environments "
                             f"whose P[s][a] lists (probability, next_state, reward, terminated))")
    n_states = len(P)
    if sorted(P) != list(range(n_states)):
        raise GymnasiumError(f"{where}: the states of P must be 0..{n_states - 1}")
    p0 = _start_distribution(env, where, n_states)
    outcomes = _outcomes(P, where, n_states)
    n_actions = 1 + max(a for _, a, _, _, _, _ in outcomes)
    absorbing, needs_end = _absorbing_states(outcomes, p0, n_states)
    model = _pairs(outcomes, absorbing, needs_end, n_states, n_actions)
    state_labels = [str(s) for s in range(n_states)] + ([END_STATE] if needs_end else [])
    terminal = np.zeros(len(state_labels), dtype=bool)
    terminal[sorted(absorbing)] = True
    terminal[n_states:] = True
    if needs_end:
        p0 = np.append(p0, 0.0)
    metadata = _grid_metadata(env, n_states) if not needs_end else {"roles": {}}
    metadata["roles"]["terminal"] = terminal
    names = ACTION_NAMES.get(type(env).__name__, ())
    action_labels = list(names) if len(names) == n_actions else [str(a) for a in range(n_actions)]
    title = f"{env_id} ({_call_text(kwargs)})" if kwargs else env_id
    return MDP.from_pairs(
        name=env_id,
        state_labels=state_labels,
        action_labels=action_labels,
        start_distribution=p0,
        attrs={"title": title, "gymnasium_id": env_id, "gymnasium_kwargs": json.dumps(kwargs, sort_keys=True),
               "gymnasium_version": _gymnasium_version()},
        **model,
        **metadata,
    )


def _gymnasium_version() -> str:
    """The installed gymnasium's version: the model is the package's, so the MDP records it."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gymnasium")
    except PackageNotFoundError:
        return "unknown"


def _start_distribution(env, where: str, n_states: int) -> np.ndarray:
    p0 = getattr(env, "initial_state_distrib", None)
    if p0 is None:
        raise GymnasiumError(f"{where} has no start distribution env.unwrapped.initial_state_distrib")
    p0 = np.asarray(p0, dtype=float)
    if p0.shape != (n_states,):
        raise GymnasiumError(f"{where}: initial_state_distrib must have one entry per state ({n_states}), "
                             f"got shape {p0.shape}")
    return p0


def _outcomes(P: dict, where: str, n_states: int) -> list[tuple]:
    """``(s, a, probability, next_state, reward, terminated)`` for every outcome in ``P``."""
    rows = []
    for s in range(n_states):
        actions = P[s]
        if not isinstance(actions, dict) or sorted(actions) != list(range(len(actions))) or not actions:
            raise GymnasiumError(f"{where}: P[{s}] must map the actions 0, 1, ... to their outcomes")
        for a, outcomes in actions.items():
            total = 0.0
            for entry in outcomes:
                if len(entry) != 4:
                    raise GymnasiumError(f"{where}: P[{s}][{a}] holds {entry!r}, not "
                                         f"(probability, next_state, reward, terminated)")
                probability, next_state, reward, terminated = entry
                probability, next_state, reward = float(probability), int(next_state), float(reward)
                if not 0 <= next_state < n_states:
                    raise GymnasiumError(f"{where}: P[{s}][{a}] leads to state {next_state}, outside 0..{n_states - 1}")
                if not (np.isfinite(probability) and probability >= 0 and np.isfinite(reward)):
                    raise GymnasiumError(f"{where}: P[{s}][{a}] holds probability {probability} and reward {reward}")
                rows.append((s, a, probability, next_state, reward, bool(terminated)))
                total += probability
            if differs_from_one(total):
                raise GymnasiumError(f"{where}: the probabilities of P[{s}][{a}] sum to {total:.6g}, not 1")
    return rows


def _absorbing_states(outcomes: list[tuple], p0: np.ndarray, n_states: int) -> tuple[set[int], bool]:
    """The states that become absorbing, and whether an extra ``end`` state is needed.

    A state that only terminated outcomes reach, and where no path starts, is
    absorbing itself; terminated outcomes into any other state go to ``end``.
    """
    ended = {next_state for _, _, p, next_state, _, terminated in outcomes if terminated and p > 0}
    continued = {next_state for _, _, p, next_state, _, terminated in outcomes if not terminated and p > 0}
    started = set(np.flatnonzero(p0).tolist())
    absorbing = ended - continued - started
    return absorbing, bool(ended - absorbing)


def _pairs(outcomes: list[tuple], absorbing: set[int], needs_end: bool, n_states: int, n_actions: int) -> dict:
    """Pairs, their merged transitions and expected rewards, as ``MDP.from_pairs`` takes them.

    Absorbing states (and ``end``, state ``n_states``) loop onto themselves with
    zero reward under every action; the path has ended there.
    """
    end = n_states
    actions: dict[int, set[int]] = {}
    for s, a, *_ in outcomes:
        actions.setdefault(s, set()).add(a)
    if needs_end:
        actions[end] = set(range(n_actions))
    pairs = [(s, a) for s in sorted(actions) for a in sorted(actions[s])]
    index = {pair: x for x, pair in enumerate(pairs)}
    rows, cols, probabilities = [], [], []
    reward = np.zeros(len(pairs))
    for s, a, p, next_state, r, terminated in outcomes:
        if s in absorbing:
            continue
        x = index[(s, a)]
        rows.append(x)
        cols.append(next_state if not terminated or next_state in absorbing else end)
        probabilities.append(p)
        reward[x] += p * r
    for s in sorted(absorbing) + ([end] if needs_end else []):
        for a in sorted(actions[s]):
            rows.append(index[(s, a)])
            cols.append(s)
            probabilities.append(1.0)
    shape = (len(pairs), n_states + needs_end)
    P = sp.csr_matrix((probabilities, (rows, cols)), shape=shape)  # outcomes onto one state add up
    pair_state, pair_action = np.array(pairs, dtype=np.int64).reshape(-1, 2).T
    return {"pair_state": pair_state, "pair_action": pair_action, "P": P, "R": reward}


def _grid_metadata(env, n_states: int) -> dict:
    """Cells, an open wall mask and roles for FrozenLake and CliffWalking; roles only otherwise."""
    name = type(env).__name__
    if name == "FrozenLakeEnv":
        desc = np.asarray(env.desc).astype(str)
        roles = {"goal": desc.ravel() == "G", "hole": desc.ravel() == "H"}
    elif name == "CliffWalkingEnv":
        desc = np.full(tuple(env.shape), ".")
        desc[np.asarray(env._cliff, dtype=bool)] = "C"
        desc[tuple(np.array(env.shape) - 1)] = "G"  # the bottom-right cell
        roles = {"goal": desc.ravel() == "G", "cliff": desc.ravel() == "C"}
    else:
        return {"roles": {}}
    n_rows, n_cols = desc.shape
    if n_rows * n_cols != n_states:
        return {"roles": {}}
    rows, cols = np.divmod(np.arange(n_states), n_cols)
    return {
        "cells": np.column_stack([rows, cols]),
        "walls": np.zeros((n_rows, n_cols), dtype=bool),
        "layout": np.column_stack([cols, -rows]).astype(float),
        "roles": roles,
    }
