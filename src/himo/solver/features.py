"""Log-linear policies and the natural path gradient in their parameters (docs/MATH.md, identity 12).

A features array ``Phi`` gives each available pair ``(i, j)`` a vector ``phi_ij`` of
``n_features`` numbers; the policy is

    pi_ij = exp(phi_ij . theta) / sum_k exp(phi_ik . theta)        (over the actions of state i)

and a run starts at ``theta = 0``, the uniform prior of Eq. 22. The paper's action
preferences are ``A_ij = phi_ij . theta - log Z_i(theta)``, so by the reparametrization
rule for Fisher informations the path Fisher information and gradient in ``theta``
are ``J^T I J`` and ``J^T g`` with ``J = dA_free / dtheta``; with the block structure
of ``I`` (identity 3) they are

    I_theta = sum_i D_0i Phi_i^T (diag(pi_i) - pi_i pi_i^T) Phi_i
    g_theta = sum_i D_0i sum_j pi_ij phi_ij (Q_ij - V_i),

from the same two sparse solves per iteration as ``natural``
(:func:`himo.solver.evaluation.evaluate`). The step is ``theta += alpha I_theta^+ g_theta``
(the minimum-norm solution where ``I_theta`` is singular). ``w = I_theta^+ g_theta`` is the
weighted least-squares fit of the advantage by the centred features (Kakade's compatible
function approximation), and ``(phi_ij - phibar_i) . w``, the *compatible advantage*, is
the rate of ``log pi_ij`` along the step: it takes the place of ``Q_ij - V_i`` in the flow's
speed, the step schedule and the convergence test (:func:`feature_flow`). With features
that contain the tabular ones (one-hot per pair) it is ``Q_ij - V_i`` on every state the
start reaches, and the log-linear run is the ``multiplicative`` run there.

The input (:func:`as_features`) is checked in one place: an array ``(n_pairs, n_features)``
in the MDP's pair order, or a ``phi(pair, feature)`` or ``phi(state, action, feature)``
variable of an xarray dataset or netCDF file; a wrong shape, a NaN, or features given
for an unavailable pair is one :class:`~himo.errors.FeaturesError` naming the problem.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from himo.errors import FeaturesError, ParameterError
from himo.mdp import MDP, pair_labels
from himo.solver.evaluation import Evaluation
from himo.tolerances import FISHER_RCOND

#: The name of the features variable in a dataset or netCDF file.
FEATURES_VARIABLE = "phi"
#: The layouts a features variable may have.
PAIR_LAYOUT, STATE_ACTION_LAYOUT = ("pair", "feature"), ("state", "action", "feature")
#: The one method a log-linear run takes: HIMO's natural path gradient, in theta.
FEATURE_METHOD = "natural"


@dataclass(frozen=True)
class Features:
    """The features of a log-linear policy: ``values[x]`` is ``phi`` of pair ``x``."""

    values: np.ndarray  # (n_pairs, n_features), finite
    names: tuple[str, ...]  # one per feature, distinct
    source: str  # what they are (a registered feature set's name, a file, "array"): recorded in the trajectory

    @property
    def n_features(self) -> int:
        return self.values.shape[1]


# ------------------------------------------------------------------ the input
def as_features(mdp: MDP, phi, names=None, source: str = "array") -> Features:
    """``phi`` checked against ``mdp`` as :class:`Features`.

    ``phi`` is :class:`Features`; an array ``(n_pairs, n_features)`` in the MDP's pair
    order (state-major, actions in the order of the ``action`` coordinate); an
    :class:`xarray.DataArray` with dimensions ``(pair, feature)`` (a ``pair`` coordinate,
    if given, must be the MDP's ``"<state>|<action>"`` labels in pair order) or
    ``(state, action, feature)`` (matched by the labels; an unavailable pair's entries
    must be 0 or missing, NaN); or a dataset with such a variable ``phi``. ``names`` are
    the features' names (default: the ``feature`` coordinate, else ``f0``, ``f1``, ...).
    Raises :class:`~himo.errors.FeaturesError` naming the problem.
    """
    if isinstance(phi, Features):
        return as_features(mdp, phi.values, phi.names, phi.source)
    import xarray as xr

    if isinstance(phi, xr.Dataset):
        if FEATURES_VARIABLE not in phi:
            raise FeaturesError(f"features {source}: no variable {FEATURES_VARIABLE!r} "
                                f"(it has {', '.join(map(str, phi.data_vars)) or 'none'})")
        phi = phi[FEATURES_VARIABLE]
    if isinstance(phi, xr.DataArray):
        values, coordinate_names = _from_data_array(mdp, phi, source)
        names = coordinate_names if names is None else names
    else:
        values = _numeric(phi, source)
        _check_pair_array(mdp, values, source)
    _check_finite(mdp, values, source)
    return Features(values=values, names=_feature_names(names, values.shape[1], source), source=source)


def _numeric(phi, source: str) -> np.ndarray:
    try:
        values = np.array(phi, dtype=float)
    except (TypeError, ValueError):
        raise FeaturesError(f"features {source}: not an array of numbers") from None
    return values


def _check_pair_array(mdp: MDP, values: np.ndarray, source: str) -> None:
    if values.ndim != 2:
        raise FeaturesError(f"features {source}: must be an array (n_pairs, n_features) = ({mdp.n_pairs}, k), "
                            f"got shape {values.shape}")
    rows, n_features = values.shape
    if rows != mdp.n_pairs:
        hint = (f"; {rows} = {mdp.n_states} states x {mdp.n_actions} actions gives features for the "
                f"unavailable pairs too: give one row per available pair, in pair order, or phi(state, action, "
                f"feature)" if rows == mdp.n_states * mdp.n_actions else "")
        raise FeaturesError(f"features {source}: has {rows} rows, the MDP has {mdp.n_pairs} available pairs "
                            f"(one row each, in pair order){hint}")
    if n_features == 0:
        raise FeaturesError(f"features {source}: has no features (shape {values.shape})")


def _from_data_array(mdp: MDP, phi, source: str) -> tuple[np.ndarray, list[str] | None]:
    dims = tuple(phi.dims)
    names = [str(n) for n in phi["feature"].values] if "feature" in phi.coords else None
    if dims == PAIR_LAYOUT:
        if "pair" in phi.coords and phi["pair"].dtype.kind in "OUS":
            labels, expected = [str(p) for p in phi["pair"].values], pair_labels(mdp)
            if labels != expected:
                wrong = next((i for i, (a, b) in enumerate(zip(labels, expected)) if a != b), min(len(labels),
                                                                                               len(expected)))
                raise FeaturesError(
                    f"features {source}: pair {wrong} is {labels[wrong] if wrong < len(labels) else 'missing'!r}, "
                    f"the MDP's pair {wrong} is {expected[wrong] if wrong < len(expected) else 'none'!r} "
                    f"(the pairs must be the MDP's available pairs, in pair order)")
        values = _numeric(phi.values, source)
        _check_pair_array(mdp, values, source)
        return values, names
    if set(dims) == set(STATE_ACTION_LAYOUT):
        phi = phi.transpose(*STATE_ACTION_LAYOUT)
        values = _numeric(phi.values, source)
        for dim, labels in (("state", mdp.state_labels), ("action", mdp.action_labels)):
            given = [str(v) for v in phi[dim].values] if dim in phi.coords else None
            if given is None or sorted(given) != sorted(labels) or len(given) != len(labels):
                raise FeaturesError(f"features {source}: the {dim} coordinate must list the MDP's {len(labels)} "
                                    f"{dim} labels, got {given if given is None else given[:5]}")
        values = values[np.ix_([list(phi["state"].values.astype(str)).index(s) for s in mdp.state_labels],
                               [list(phi["action"].values.astype(str)).index(a) for a in mdp.action_labels])]
        if values.shape[2] == 0:
            raise FeaturesError(f"features {source}: has no features (shape {values.shape})")
        unavailable = ~mdp.available()
        given = unavailable[:, :, None] & ~np.isnan(values) & (values != 0)
        if given.any():
            s, a, f = (int(v[0]) for v in np.nonzero(given))
            raise FeaturesError(
                f"features {source}: feature {f} is given ({values[s, a, f]:g}) for the unavailable pair "
                f"(s={mdp.state_labels[s]}, a={mdp.action_labels[a]}); unavailable pairs have no features "
                f"(leave them 0 or missing)")
        return values[mdp.pair_state, mdp.pair_action], names
    raise FeaturesError(f"features {source}: {FEATURES_VARIABLE} must have dimensions {PAIR_LAYOUT} or "
                        f"{STATE_ACTION_LAYOUT}, got {dims}")


def _check_finite(mdp: MDP, values: np.ndarray, source: str) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        x, f = (int(v[0]) for v in np.nonzero(bad))
        raise FeaturesError(f"features {source}: feature {f} of pair (s={mdp.state_labels[mdp.pair_state[x]]}, "
                            f"a={mdp.action_labels[mdp.pair_action[x]]}) is {values[x, f]} (must be finite)")


def _feature_names(names, n_features: int, source: str) -> tuple[str, ...]:
    names = tuple(f"f{k}" for k in range(n_features)) if names is None else tuple(str(n) for n in names)
    if len(names) != n_features:
        raise FeaturesError(f"features {source}: {len(names)} names for {n_features} features")
    if len(set(names)) != len(names):
        twice = next(n for n in names if names.count(n) > 1)
        raise FeaturesError(f"features {source}: the feature name {twice!r} is given twice")
    return names


def check_feature_method(method: str) -> None:
    """A log-linear run takes the natural path gradient in theta: ``method`` must be
    :data:`FEATURE_METHOD` (the default)."""
    if method != FEATURE_METHOD:
        raise ParameterError(
            f"features are run by the natural path gradient in theta (method={FEATURE_METHOD!r}, the default); "
            f"method={method!r} has no log-linear form in himo")


# ------------------------------------------------------------------ the maths
def feature_policy(mdp: MDP, features: Features, theta: np.ndarray) -> np.ndarray:
    """``pi_ij = exp(phi_ij . theta) / sum_k exp(phi_ik . theta)``, the ``(n_pairs,)`` policy."""
    logits = features.values @ theta
    logits -= np.maximum.reduceat(logits, mdp.state_offsets[:-1])[mdp.pair_state]
    weights = np.exp(logits)
    return weights / np.bincount(mdp.pair_state, weights=weights, minlength=mdp.n_states)[mdp.pair_state]


def centred_features(mdp: MDP, features: Features, policy: np.ndarray) -> np.ndarray:
    """``(n_pairs, n_features)`` ``phi_ij - phibar_i`` with ``phibar_i = sum_k pi_ik phi_ik``:
    ``d log pi_ij / d theta``, the score of one step (``sum_j pi_ij (phi_ij - phibar_i) = 0``)."""
    weighted = policy[:, None] * features.values
    mean = np.add.reduceat(weighted, mdp.state_offsets[:-1], axis=0)
    return features.values - mean[mdp.pair_state]


def feature_fisher(mdp: MDP, features: Features, policy: np.ndarray, occupancy: np.ndarray) -> np.ndarray:
    """``I_theta = sum_i D_0i Phi_i^T (diag(pi_i) - pi_i pi_i^T) Phi_i`` (docs/MATH.md, identity 12),
    formed densely as ``sum_ij D_0i pi_ij u_ij u_ij^T`` with ``u`` the :func:`centred_features`."""
    u = centred_features(mdp, features, policy)
    weight = occupancy[mdp.pair_state] * policy
    return (u * weight[:, None]).T @ u


def feature_gradient(mdp: MDP, features: Features, policy: np.ndarray, evaluation: Evaluation) -> np.ndarray:
    """``g_theta = sum_i D_0i sum_j pi_ij phi_ij (Q_ij - V_i)``: the gradient of ``R`` in ``theta``
    (identity 8's softmax gradient through ``Phi``; docs/MATH.md, identity 12)."""
    return features.values.T @ (evaluation.occupancy[mdp.pair_state] * policy * evaluation.advantage)


def natural_feature_direction(mdp: MDP, features: Features, policy: np.ndarray,
                              evaluation: Evaluation) -> tuple[np.ndarray, np.ndarray]:
    """``(w, compatible)``: the natural direction ``w = I_theta^+ g_theta`` and the compatible
    advantage ``(phi_ij - phibar_i) . w``, the rate of ``log pi_ij`` along it.

    ``I_theta = M^T M`` and ``g_theta = M^T b`` with ``M = diag(sqrt(D_0i pi_ij)) U`` (``U`` the
    :func:`centred_features`) and ``b = sqrt(D_0i pi_ij) (Q_ij - V_i)``, so ``w`` is the
    minimum-norm least-squares solution of ``M w = b``: the fit of the advantage by the
    centred features weighted by the expected counts ``D_0i pi_ij``. It is solved by
    eliminating each state's own features first (:func:`local_and_shared_features`;
    docs/MATH.md, identity 12, "The solve"): a state's rows carry the one factor
    ``sqrt(D_0i)``, which drops out of the fit of its own features, so a state visited
    ``1e-30`` times as often as the busiest keeps its digits; only the shared features are
    fitted across states (the Schur complement), with singular values below
    :data:`himo.tolerances.FISHER_RCOND` times the largest of the problem counting as zero;
    the minimum norm is then taken over the whole ``theta``. Pairs of states the start never
    reaches (``D_0i = 0``) do not enter ``w``: their own features stay at 0 and their logits
    move only through features they share with reached pairs.
    """
    u = centred_features(mdp, features, policy)
    local, shared = local_and_shared_features(mdp, features)
    root = np.sqrt(policy)
    fits, residual_rows, residual_targets, largest = [], [], [], 0.0
    for states, own in _same_shape_states(mdp, local):
        # States of one shape, batched; W_i = diag(sqrt(pi_i)): A_i = W_i U_i[:, own], B_i = W_i U_i[:, shared],
        # a_i = W_i (Q_i - V_i). Its own features' best fit given w_S is A_i^+ (a_i - B_i w_S) = c_i - G_i w_S,
        # whatever D_0i; what they cannot fit, P_i (a_i - B_i w_S) (P_i the projection off A_i's range),
        # is left to the shared features, weighed by D_0i.
        pairs = mdp.state_offsets[states][:, None] + np.arange(mdp.state_offsets[states[0] + 1]
                                                               - mdp.state_offsets[states[0]])
        weights = root[pairs][:, :, None]
        A = weights * u[pairs[:, :, None], own[:, None, :]]
        B = weights * u[pairs][:, :, shared]
        a = weights[:, :, 0] * evaluation.advantage[pairs]
        basis, pinv, top = _range_and_pseudo_inverse(A)
        scale = np.sqrt(evaluation.occupancy[states])
        fits.append((own, pinv @ a[:, :, None], pinv @ B))
        largest = max(largest, float(np.max(scale * top, initial=0.0)))
        residual_rows.append((scale[:, None, None] * (B - basis @ (basis.transpose(0, 2, 1) @ B))).reshape(B.shape[0] * B.shape[1], shared.size))
        residual_targets.append((scale[:, None] * (a - (basis @ (basis.transpose(0, 2, 1) @ a[:, :, None]))[:, :, 0])).ravel())
    fits = [(own[k], c[k, :, 0], G[k]) for own, c, G in fits for k in range(len(own))]
    w = np.zeros(features.n_features)
    w_shared = _minimum_norm_shared(shared.size, fits, residual_rows, residual_targets, largest)
    w[shared] = w_shared
    for own, c, G in fits:
        w[own] = c - G @ w_shared
    return w, u @ w


def _same_shape_states(mdp: MDP, local: list[np.ndarray]):
    """``(states, own)`` per group of states with the same number of actions and own features:
    ``own[k]`` the own columns of ``states[k]``."""
    actions = np.diff(mdp.state_offsets)
    n_own = np.array([columns.size for columns in local])
    keys = actions * (int(n_own.max(initial=0)) + 1) + n_own
    for key in np.unique(keys):
        states = np.flatnonzero(keys == key)
        yield states, np.array([local[s] for s in states], dtype=np.intp).reshape(states.size, n_own[states[0]])


def local_and_shared_features(mdp: MDP, features: Features) -> tuple[list[np.ndarray], np.ndarray]:
    """``(local, shared)``: ``local[i]`` the columns nonzero on pairs of state ``i`` only (a
    state's own features, e.g. the tabular ones), ``shared`` the columns nonzero on pairs of
    two or more states. Columns that are 0 everywhere are in neither (their weight is 0)."""
    nonzero = features.values != 0
    states = mdp.pair_state[:, None]
    first = np.where(nonzero, states, mdp.n_states).min(axis=0)
    last = np.where(nonzero, states, -1).max(axis=0)
    own = np.flatnonzero(first == last)
    local = [np.empty(0, dtype=np.intp)] * mdp.n_states
    for state, columns in zip(*_group(first[own], own)):
        local[state] = columns
    return local, np.flatnonzero(first < last)


def _group(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    order = np.argsort(keys, kind="stable")
    unique, starts = np.unique(keys[order], return_index=True)
    return unique, np.split(values[order], starts[1:])


def _range_and_pseudo_inverse(A: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For a stack of matrices ``A[k]``: ``(basis, A^+, sigma_max)``, orthonormal bases of their
    ranges and their pseudo-inverses, a singular value below :data:`FISHER_RCOND` times its
    matrix's largest counting as zero (a relative cut within one state, which the state's
    occupancy does not move)."""
    n, rows, columns = A.shape
    if rows == 0 or columns == 0:
        return np.zeros((n, rows, 0)), np.zeros((n, columns, rows)), np.zeros(n)
    left, sigma, right = np.linalg.svd(A, full_matrices=False)
    top = sigma[:, 0]
    kept = sigma > FISHER_RCOND * top[:, None]
    inverse = np.divide(1.0, sigma, out=np.zeros_like(sigma), where=kept)
    basis = left * kept[:, None, :]
    return basis, (right.transpose(0, 2, 1) * inverse[:, None, :]) @ left.transpose(0, 2, 1), top


def _minimum_norm_shared(n_shared: int, fits, residual_rows, residual_targets, largest: float) -> np.ndarray:
    """The shared weights ``w_S`` of the minimum-norm ``w``: among the least-squares solutions
    ``w_S0 + N z`` of the shared fit ``sum_i D_0i |P_i (B_i w_S - a_i)|^2`` (the Schur complement;
    a singular value below :data:`FISHER_RCOND` times ``largest``, the largest singular value of
    the problem's blocks, counts as zero), the one minimizing ``|w_S|^2 + sum_i |c_i - G_i w_S|^2``,
    the whole ``|theta|^2`` once each state's own weights are its best fit ``c_i - G_i w_S``."""
    if n_shared == 0:
        return np.zeros(0)
    rows, targets = np.vstack(residual_rows), np.concatenate(residual_targets)
    left, sigma, right = np.linalg.svd(rows, full_matrices=rows.shape[0] < n_shared)
    sigma = np.concatenate([sigma, np.zeros(n_shared - sigma.size)])
    largest = max(largest, float(sigma[0]))
    rank = int(np.count_nonzero(sigma > FISHER_RCOND * largest)) if largest > 0 else 0
    particular = right[:rank].T @ ((left[:, :rank].T @ targets) / sigma[:rank])
    null = right[rank:].T
    if null.shape[1] == 0:
        return particular
    # |w_S|^2 + sum_i |c_i - G_i w_S|^2 over w_S = particular + null z: rows [I; G_i], targets [0; c_i].
    stacked = np.vstack([np.eye(n_shared)] + [G for _, _, G in fits])
    wanted = np.concatenate([np.zeros(n_shared)] + [c for _, c, _ in fits])
    z = np.linalg.lstsq(stacked @ null, wanted - stacked @ particular, rcond=None)[0]
    return particular + null @ z


def feature_flow(mdp: MDP, features: Features, policy: np.ndarray,
                 evaluation: Evaluation) -> tuple[np.ndarray, Evaluation]:
    """``(w, flow)``: the natural direction in ``theta`` (:func:`natural_feature_direction`) and
    ``evaluation`` with its ``advantage`` replaced by the compatible advantage, which is what
    the log-linear flow moves ``log pi`` by: the flow's speed, the step schedule and the
    convergence test read it where a tabular run reads ``Q - V``."""
    w, compatible = natural_feature_direction(mdp, features, policy, evaluation)
    return w, replace(evaluation, advantage=compatible)
