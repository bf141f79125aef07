"""MDPs held as arrays in pymdptoolbox's or QuantEcon's layout, read without either package.

Layouts (``S`` states, ``A`` actions)
-------------------------------------
``pymdptoolbox`` (``mdptoolbox.mdp``; every action is available in every state)
    ``P``  ``(A, S, S)``, ``P[a, s, k] = P(s_k | s, a)``; in Python also a list of
           ``A`` matrices ``S x S``, dense or scipy sparse (``forest(is_sparse=True)``)
    ``R``  ``(S, A)`` reward of each pair, ``(S,)`` reward of each state whatever
           the action, or ``(A, S, S)`` (a list of ``A`` matrices in Python) reward
           of each transition, of which himo takes the expectation under ``P``
``quantecon`` (``quantecon.markov.DiscreteDP``), in one of its two forms
    product form: ``R`` ``(S, A)`` with ``-inf`` marking the actions that are not
    available, and ``Q`` ``(S, A, S)``, ``Q[s, a, k] = P(s_k | s, a)``;
    state-action-pairs form: ``R`` ``(L,)``, ``Q`` ``(L, S)`` (scipy sparse in
    Python too), ``s_indices`` and ``a_indices`` ``(L,)``, the state and the action
    of each of the ``L`` available pairs (a pair whose ``R`` is ``-inf`` is left out,
    as in the product form).

Both layouts may add ``start_distribution`` ``(S,)`` (the probability that a path
starts in each state), ``state_labels`` ``(S,)`` and ``action_labels`` ``(A,)``;
without labels, states and actions are labelled by their index (``"0"``, ``"1"``,
...). Paths start in state 0 unless ``start`` or ``start_distribution`` says
otherwise. A discount factor is not part of an MDP file: himo's foresight
``lambda`` is chosen when solving (``himo solve --lam``), and plays the discount's
role exactly (``V = R + lambda P V``).

Every malformed array is refused with one :class:`ArrayLayoutError` that names the
key and the index: a wrong shape, a NaN, a negative probability, a row of ``P`` or
``Q`` that does not sum to 1, a state with no available action.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from himo.errors import HimoError, MDPError, MDPFileError
from himo.mdp import MDP
from himo.tolerances import differs_from_one

LAYOUTS = ("pymdptoolbox", "quantecon")

#: Keys that either layout may add to its arrays.
OPTIONAL_KEYS = ("start_distribution", "state_labels", "action_labels")
REQUIRED_KEYS = {"pymdptoolbox": ("P", "R"), "quantecon": ("R", "Q")}
QUANTECON_PAIR_KEYS = ("s_indices", "a_indices")


class ArrayLayoutError(MDPError):
    """An array in pymdptoolbox's or QuantEcon's layout is malformed."""


def from_arrays(
    layout: str,
    *,
    name: str = "arrays",
    start: int | str | None = None,
    **arrays,
) -> MDP:
    """The MDP held by ``arrays`` in ``layout`` (``"pymdptoolbox"`` or ``"quantecon"``).

    ``arrays`` are the keys of the layout (see the module docstring), for example
    ``from_arrays("pymdptoolbox", P=P, R=R)`` or
    ``from_arrays("quantecon", R=R, Q=Q, s_indices=s, a_indices=a)``. ``start`` is
    the start state (index or label); the default is state 0, unless ``arrays``
    holds a ``start_distribution``.
    """
    if layout not in LAYOUTS:
        raise ArrayLayoutError(f"unknown array layout {layout!r}; himo reads {' and '.join(LAYOUTS)}")
    _check_keys(layout, arrays)
    if layout == "pymdptoolbox":
        pairs = _pymdptoolbox_pairs(arrays["P"], arrays["R"])
    elif "s_indices" in arrays:
        n_labels = len(np.asarray(arrays["action_labels"])) if "action_labels" in arrays else None
        pairs = _quantecon_pair_form(arrays["R"], arrays["Q"], arrays["s_indices"], arrays["a_indices"], n_labels)
    else:
        pairs = _quantecon_product_form(arrays["R"], arrays["Q"])
    pair_state, pair_action, P, R, n_states, n_actions = pairs
    state_labels = _labels(arrays, "state_labels", n_states, "states")
    action_labels = _labels(arrays, "action_labels", n_actions, "actions")
    if "start_distribution" in arrays:
        if start is not None:
            raise ArrayLayoutError("both start and the key 'start_distribution' give the start: keep one")
        start_kwargs = {"start_distribution": _numeric("start_distribution", arrays["start_distribution"])}
    else:
        start_kwargs = {"start": 0 if start is None else start}
    return MDP.from_pairs(
        name=name,
        state_labels=state_labels,
        action_labels=action_labels,
        pair_state=pair_state,
        pair_action=pair_action,
        P=P,
        R=R,
        attrs={"array_layout": layout},
        **start_kwargs,
    )


def load_arrays(path: str | os.PathLike, layout: str, start: str | None = None) -> MDP:
    """The MDP held by the arrays of an ``.npz`` file (``numpy.savez``) in ``layout``.

    ``start`` is the text of a state label or index (a label wins when a label is
    also a number). Errors are :class:`~himo.errors.MDPFileError` naming the file.
    """
    path = Path(path)
    arrays = _read_npz(path)
    try:
        if start is not None:
            start = _start_from_text(start, arrays)
        return from_arrays(layout, name=path.stem, start=start, **arrays)
    except HimoError as err:
        raise MDPFileError(f"{path}: {err}") from None


# ------------------------------------------------------------------ pymdptoolbox
def _pymdptoolbox_pairs(P, R):
    """Pairs ``(s, a)`` for every state and action; rows of ``P`` in the order ``a * S + s``."""
    blocks = _square_blocks("P", P)
    n_actions, n_states = len(blocks), blocks[0].shape[0]
    stacked = sp.vstack(blocks, format="csr")  # row a * S + s
    _check_rows("P", stacked, lambda row: divmod(row, n_states))
    if isinstance(R, (list, tuple)):
        reward = _transition_rewards(stacked, _square_blocks("R", R), n_actions, n_states)
    else:
        R = _numeric("R", R)
        if R.shape == (n_states, n_actions):
            _check_finite("R", R)
            reward = R.T.ravel()  # row a * S + s
        elif R.shape == (n_states,):
            _check_finite("R", R)
            reward = np.tile(R, n_actions)
        elif R.shape == (n_actions, n_states, n_states):
            _check_finite("R", R)
            reward = _transition_rewards(stacked, list(R), n_actions, n_states)
        else:
            raise ArrayLayoutError(
                f"key 'R' has shape {R.shape}; with P of {n_actions} actions and {n_states} states "
                f"pymdptoolbox's R is (S, A) = {(n_states, n_actions)}, (S,) = {(n_states,)} "
                f"or (A, S, S) = {(n_actions, n_states, n_states)}"
            )
    pair_state = np.tile(np.arange(n_states), n_actions)
    pair_action = np.repeat(np.arange(n_actions), n_states)
    return pair_state, pair_action, stacked, reward, n_states, n_actions


def _square_blocks(key: str, value) -> list[sp.csr_matrix]:
    """``(A, S, S)`` as ``A`` sparse ``S x S`` matrices, from an array or a list of matrices."""
    if isinstance(value, (list, tuple)):
        if len(value) == 0:
            raise ArrayLayoutError(f"key {key!r} is an empty list; it takes one S x S matrix per action")
        blocks = [_matrix(f"{key}[{a}]", m) for a, m in enumerate(value)]
    else:
        value = _numeric(key, value)
        if value.ndim != 3 or value.shape[1] != value.shape[2]:
            raise ArrayLayoutError(f"key {key!r} must have shape (A, S, S), got {value.shape}")
        _check_finite(key, value)
        blocks = [sp.csr_matrix(block) for block in value]
    shape = blocks[0].shape
    for a, block in enumerate(blocks):
        if block.shape != shape or shape[0] != shape[1]:
            raise ArrayLayoutError(f"key {key!r}, index [{a}]: must be a square S x S matrix like [0], "
                                   f"got {block.shape}")
    return blocks


def _transition_rewards(stacked: sp.csr_matrix, blocks, n_actions: int, n_states: int) -> np.ndarray:
    """``R_(s,a) = sum_k P[a, s, k] R[a, s, k]``, in the row order of ``stacked``."""
    rewards = [_matrix(f"R[{a}]", block) for a, block in enumerate(blocks)] if len(blocks) == n_actions else []
    if len(rewards) != n_actions or any(block.shape != (n_states, n_states) for block in rewards):
        raise ArrayLayoutError(f"key 'R' must hold {n_actions} matrices {n_states} x {n_states}, as P does")
    return np.asarray(stacked.multiply(sp.vstack(rewards, format="csr")).sum(axis=1)).ravel()


# --------------------------------------------------------------------- QuantEcon
def _quantecon_product_form(R, Q):
    R = _numeric("R", R)
    if R.ndim != 2:
        raise ArrayLayoutError(f"key 'R' must have shape (S, A) (or (L,) with s_indices and a_indices), "
                               f"got {R.shape}")
    n_states, n_actions = R.shape
    Q = _numeric("Q", Q)
    if Q.shape != (n_states, n_actions, n_states):
        raise ArrayLayoutError(f"key 'Q' must have shape (S, A, S) = {(n_states, n_actions, n_states)} "
                               f"for R of shape (S, A) = {R.shape}, got {Q.shape}")
    available = _available("R", R)
    empty = np.flatnonzero(~available.any(axis=1))
    if empty.size:
        s = int(empty[0])
        raise ArrayLayoutError(f"key 'R', index [{s}, :]: state {s} has no available action (every R is -inf)")
    pair_state, pair_action = np.nonzero(available)
    rows = Q[pair_state, pair_action]
    _check_finite("Q", Q[available], where=lambda i: (pair_state[i[0]], pair_action[i[0]], i[1]))
    P = sp.csr_matrix(rows)
    _check_rows("Q", P, lambda x: (pair_state[x], pair_action[x]))
    return pair_state, pair_action, P, R[available], n_states, n_actions


def _quantecon_pair_form(R, Q, s_indices, a_indices, n_action_labels: int | None):
    R = _numeric("R", R)
    if R.ndim != 1:
        raise ArrayLayoutError(f"key 'R' must have shape (L,) with s_indices and a_indices, got {R.shape}")
    n_pairs = R.size
    Q = _matrix("Q", Q)
    if Q.shape[0] != n_pairs:
        raise ArrayLayoutError(f"key 'Q' must have shape (L, S) with L = {n_pairs} (the size of R), got {Q.shape}")
    n_states = Q.shape[1]
    s_indices = _indices("s_indices", s_indices, n_pairs, n_states)
    a_indices = _indices("a_indices", a_indices, n_pairs, n_action_labels)
    available = _available("R", R)
    keys = s_indices * (int(a_indices.max(initial=0)) + 1) + a_indices
    _, first, counts = np.unique(keys, return_index=True, return_counts=True)
    if np.any(counts > 1):
        again = int(np.setdiff1d(np.arange(n_pairs), first)[0])
        earlier = int(np.flatnonzero(keys == keys[again])[0])
        raise ArrayLayoutError(f"keys 's_indices' and 'a_indices', index {again}: the pair "
                               f"(s={s_indices[again]}, a={a_indices[again]}) is given again (first at index {earlier})")
    missing = np.setdiff1d(np.arange(n_states), s_indices[available])
    if missing.size:
        raise ArrayLayoutError(f"key 's_indices': state {missing[0]} has no available action "
                               f"(no pair, or only pairs whose R is -inf)")
    rows = np.flatnonzero(available)
    P = Q[rows]
    _check_rows("Q", P, lambda x: (rows[x],))
    n_actions = n_action_labels if n_action_labels is not None else int(a_indices.max()) + 1
    return s_indices[rows], a_indices[rows], P, R[rows], n_states, n_actions


def _indices(key: str, value, n_pairs: int, size: int | None) -> np.ndarray:
    value = np.asarray(value)
    if value.shape != (n_pairs,):
        raise ArrayLayoutError(f"key {key!r} must have shape (L,) = ({n_pairs},) like R, got {value.shape}")
    if n_pairs and value.dtype.kind not in "iu":
        raise ArrayLayoutError(f"key {key!r} must hold integers, has dtype {value.dtype}")
    value = value.astype(np.int64)
    bad = np.flatnonzero((value < 0) | (value >= (size if size is not None else np.iinfo(np.int64).max)))
    if bad.size:
        i = int(bad[0])
        upper = f"0..{size - 1}" if size is not None else "0 or more"
        raise ArrayLayoutError(f"key {key!r}, index {i}: {value[i]} is outside {upper}")
    return value


def _available(key: str, R: np.ndarray) -> np.ndarray:
    """The available pairs: ``R > -inf``. NaN and ``+inf`` are errors."""
    bad = np.isnan(R) | (R == np.inf)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ArrayLayoutError(f"key {key!r}, index {_index(index)}: reward is {R[index]} "
                               f"(only -inf has a meaning: the action is not available)")
    return R > -np.inf


# ---------------------------------------------------------------------- checks
def _check_keys(layout: str, arrays: dict) -> None:
    required = REQUIRED_KEYS[layout]
    optional = OPTIONAL_KEYS + (QUANTECON_PAIR_KEYS if layout == "quantecon" else ())
    takes = f"the {layout} layout takes {', '.join(required)}; optionally {', '.join(optional)}"
    for key in required:
        if key not in arrays:
            raise ArrayLayoutError(f"missing key {key!r} ({takes})")
    for key in arrays:
        if key not in required + optional:
            raise ArrayLayoutError(f"unknown key {key!r} ({takes})")
    given = [key for key in QUANTECON_PAIR_KEYS if key in arrays]
    if len(given) == 1:
        raise ArrayLayoutError(f"key {given[0]!r} needs its partner: give both s_indices and a_indices, or neither")


def _numeric(key: str, value) -> np.ndarray:
    if sp.issparse(value):
        raise ArrayLayoutError(f"key {key!r} must be a dense array here, got a sparse matrix")
    try:
        value = np.asarray(value)
    except ValueError as err:  # ragged nested lists
        raise ArrayLayoutError(f"key {key!r} is not a rectangular array: {err}") from None
    if value.dtype.kind not in "fiub":
        raise ArrayLayoutError(f"key {key!r} must hold numbers, has dtype {value.dtype}")
    return value.astype(float)


def _matrix(key: str, value) -> sp.csr_matrix:
    """A 2-D array or scipy sparse matrix as CSR, its stored values finite."""
    if sp.issparse(value):
        matrix = sp.csr_matrix(value, dtype=float)
    else:
        value = _numeric(key, value)
        if value.ndim != 2:
            raise ArrayLayoutError(f"key {key!r} must be a 2-D matrix, got shape {value.shape}")
        matrix = sp.csr_matrix(value)
    matrix.sum_duplicates()
    coo = matrix.tocoo()
    bad = np.flatnonzero(~np.isfinite(coo.data))
    if bad.size:
        i = int(bad[0])
        raise ArrayLayoutError(f"key {key!r}, index {_index((coo.row[i], coo.col[i]))}: value is {coo.data[i]}")
    return matrix


def _check_finite(key: str, value: np.ndarray, where=None) -> None:
    bad = np.argwhere(~np.isfinite(value))
    if bad.size:
        index = tuple(int(i) for i in bad[0])
        shown = where(index) if where else index
        raise ArrayLayoutError(f"key {key!r}, index {_index(shown)}: value is {value[index]}")


def _check_rows(key: str, P: sp.csr_matrix, row_index) -> None:
    """Each row of ``P`` is a probability vector; ``row_index(row)`` is its index in ``key``."""
    P.sum_duplicates()
    if P.nnz and P.data.min() < 0:
        i = int(np.argmin(P.data))
        row = int(np.searchsorted(P.indptr, i, side="right") - 1)
        raise ArrayLayoutError(f"key {key!r}, index {_index(tuple(row_index(row)) + (P.indices[i],))}: "
                               f"negative probability {P.data[i]:.6g}")
    sums = np.asarray(P.sum(axis=1)).ravel()
    bad = np.flatnonzero(differs_from_one(sums))
    if bad.size:
        row = int(bad[0])
        raise ArrayLayoutError(f"key {key!r}, index {_index(tuple(row_index(row)) + (':',))}: "
                               f"probabilities sum to {sums[row]:.6g}, not 1 ({bad.size} row(s) affected)")


def _index(index) -> str:
    return "[" + ", ".join(str(int(i)) if not isinstance(i, str) else i for i in index) + "]"


def _labels(arrays: dict, key: str, size: int, what: str) -> list[str]:
    if key not in arrays:
        return [str(i) for i in range(size)]
    labels = np.asarray(arrays[key])
    if labels.ndim != 1 or labels.size != size:
        raise ArrayLayoutError(f"key {key!r} must have one label per {what[:-1]} ({size} {what}), "
                               f"got shape {labels.shape}")
    return [str(label) for label in labels]


# ------------------------------------------------------------------------ files
def _read_npz(path: Path) -> dict:
    if not path.is_file():
        raise MDPFileError(f"{path}: no such file")
    try:
        npz = np.load(path, allow_pickle=False)
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        raise MDPFileError(f"{path}: not a readable .npz file of arrays ({err})") from None
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise MDPFileError(f"{path}: holds one unnamed array; write named arrays with numpy.savez(path, P=..., R=...)")
    with npz:
        arrays = {}
        for key in npz.files:
            try:
                arrays[key] = npz[key]
            except ValueError:  # object arrays need pickle, which is never loaded
                raise MDPFileError(f"{path}: key {key!r} holds Python objects, not numbers or strings; "
                                   f"save plain arrays (dense P, not a list of sparse matrices)") from None
    return arrays


def _start_from_text(text: str, arrays: dict) -> int | str:
    """``--start``: a state label if it is one, else a state index."""
    if "state_labels" in arrays and text in [str(label) for label in np.asarray(arrays["state_labels"]).ravel()]:
        return text
    try:
        return int(text)
    except ValueError:
        raise ArrayLayoutError(f"--start {text!r} is neither a state label nor a state index") from None
