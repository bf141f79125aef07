"""Log-linear policies: the natural path gradient in theta (docs/MATH.md, identity 12).

Each formula of :mod:`himo.solver.features` against an independent route: the step
of ``himo.solve(features=...)`` against the formulas written out densely here,
``g_theta`` against finite differences of the objective, ``I_theta`` against Monte Carlo
paths, and one-hot features against the ``multiplicative`` method; then the input
checks and the command line.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import himo
from himo.cli import main
from himo.envs.features import load_features
from himo.errors import FeaturesError, ParameterError
from himo.solver.evaluation import evaluate
from himo.solver.features import as_features, feature_fisher, feature_gradient, natural_feature_direction
from tests.solver.test_baselines import dense_evaluation
from tests.solver.test_counters import Z_TOLERANCE, sample_pair_counts

CASES = [
    pytest.param(dict(seed=0), 0.7, id="4states-lam0.7"),
    pytest.param(dict(seed=5, action_counts=(2, 3, 3, 1, 4)), 0.9, id="5states-lam0.9"),
    pytest.param(dict(seed=8, action_counts=(4, 2, 1, 3, 5, 2), n_actions=6), 0.95, id="6states-lam0.95"),
]


def random_features(mdp, n_features: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(mdp.n_pairs, n_features))


def softmax_policy(mdp, logits):
    """``pi_ij = exp(l_ij) / sum_k exp(l_ik)``, state by state (written out, no himo helper)."""
    policy = np.empty(mdp.n_pairs)
    for s in range(mdp.n_states):
        pairs = np.flatnonzero(mdp.pair_state == s)
        e = np.exp(logits[pairs] - logits[pairs].max())
        policy[pairs] = e / e.sum()
    return policy


def dense_fisher_and_gradient(mdp, phi, policy, lam):
    """The issue's formulas, state by state: ``I_theta = sum_i D_0i Phi_i^T (diag(pi_i) - pi_i pi_i^T)
    Phi_i`` and ``g_theta = sum_i D_0i sum_j pi_ij phi_ij (Q_ij - V_i)``, from a dense evaluation."""
    D, V, Q = dense_evaluation(mdp, policy, lam)
    occupancy = mdp.start_distribution @ D
    fisher = np.zeros((phi.shape[1], phi.shape[1]))
    gradient = np.zeros(phi.shape[1])
    for s in range(mdp.n_states):
        pairs = np.flatnonzero(mdp.pair_state == s)
        p, block = policy[pairs], phi[pairs]
        fisher += occupancy[s] * block.T @ (np.diag(p) - np.outer(p, p)) @ block
        gradient += occupancy[s] * block.T @ (p * (Q[pairs] - V[s]))
    return fisher, gradient


def objective(mdp, phi, theta, lam):
    _, V, _ = dense_evaluation(mdp, softmax_policy(mdp, phi @ theta), lam)
    return float(mdp.start_distribution @ V)


@pytest.mark.parametrize("n_features", [3, 12])
@pytest.mark.parametrize("spec, lam", CASES)
def test_one_fixed_step_is_theta_plus_the_pseudo_inverse_step(random_mdp, spec, lam, n_features):
    """The policy after one fixed step of 1 is ``softmax(Phi (I_theta^+ g_theta))`` with both formed
    from the formulas at theta = 0 (the uniform prior), to 1e-9; with more features than free
    preferences ``I_theta`` is singular and the minimum-norm solution (``numpy.linalg.pinv``) is meant."""
    mdp = random_mdp(**spec)
    phi = random_features(mdp, n_features, seed=1)
    run = himo.solve(mdp, features=phi, lam=lam, step_rule="fixed", step=1.0, max_iter=1, store_counters=False)
    fisher, gradient = dense_fisher_and_gradient(mdp, phi, mdp.uniform_policy(), lam)
    if n_features > mdp.n_pairs - mdp.n_states:
        assert np.linalg.matrix_rank(fisher) < n_features  # the singular case is exercised
    theta = np.linalg.pinv(fisher, rcond=1e-10, hermitian=True) @ gradient
    expected = softmax_policy(mdp, phi @ theta)
    stepped = run.policy.isel(iteration=1).values[mdp.pair_state, mdp.pair_action]
    np.testing.assert_allclose(stepped, expected, rtol=0, atol=1e-9)
    np.testing.assert_allclose(run.theta.isel(iteration=1).values, theta, rtol=0, atol=1e-9 * max(1, abs(theta).max()))
    np.testing.assert_array_equal(run.theta.isel(iteration=0).values, 0.0)


@pytest.mark.parametrize("spec, lam", CASES)
def test_feature_gradient_equals_finite_differences(random_mdp, random_policy, spec, lam):
    """``g_theta`` is the gradient of ``R(theta) = p0 . V``: central differences of the exactly
    evaluated objective, at a random theta, to a relative 1e-6."""
    mdp = random_mdp(**spec)
    phi = random_features(mdp, 4, seed=2)
    theta = np.random.default_rng(3).normal(size=4)
    features = as_features(mdp, phi)
    policy = softmax_policy(mdp, phi @ theta)
    gradient = feature_gradient(mdp, features, policy, evaluate(mdp, policy, lam))
    h = 1e-5
    numeric = np.array([(objective(mdp, phi, theta + h * e, lam) - objective(mdp, phi, theta - h * e, lam)) / (2 * h)
                        for e in np.eye(4)])
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-9 * abs(numeric).max())


@pytest.mark.parametrize("lam", [0.5, 0.85])
def test_feature_fisher_is_the_second_moment_of_the_path_score(random_mdp, lam):
    """``I_theta`` is ``<s s^T>`` of the path score ``s = sum_t (phi_{s_t a_t} - phibar_{s_t})
    = sum_ij n_ij (phi_ij - phibar_i)``, over 200,000 paths sampled from the path model (no D,
    no C): every entry within 5 standard errors; and it is not the Fisher of the pair counts'
    first moment alone (the cross-time products cancel only in expectation)."""
    mdp = random_mdp(seed=0)
    phi = random_features(mdp, 3, seed=4)
    theta = np.random.default_rng(5).normal(size=3)
    policy = softmax_policy(mdp, phi @ theta)
    features = as_features(mdp, phi)
    fisher = feature_fisher(mdp, features, policy, evaluate(mdp, policy, lam).occupancy)
    counts = sample_pair_counts(mdp, policy, lam, n_paths=200_000, seed=11)
    mean_phi = np.add.reduceat(policy[:, None] * phi, mdp.state_offsets[:-1], axis=0)[mdp.pair_state]
    scores = counts @ (phi - mean_phi)  # (n_paths, n_features)
    outer = scores[:, :, None] * scores[:, None, :]
    sampled, error = outer.mean(axis=0), outer.std(axis=0, ddof=1) / np.sqrt(len(outer))
    assert np.max(np.abs(sampled - fisher) / error) < Z_TOLERANCE
    dense, _ = dense_fisher_and_gradient(mdp, phi, policy, lam)
    np.testing.assert_allclose(fisher, dense, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("step_rule, step", [("fixed", 0.5), ("geometric", 1.0)])
@pytest.mark.parametrize("spec, lam", CASES)
def test_one_hot_features_give_the_multiplicative_iterates(random_mdp, spec, lam, step_rule, step):
    """One-hot features: the log-linear run is the ``multiplicative`` run, iteration by iteration,
    policies to 1e-10, to convergence (the same number of iterations), on MDPs whose every state
    the start reaches."""
    mdp = random_mdp(**spec)
    runs = [himo.solve(mdp, lam=lam, step_rule=step_rule, step=step, store_counters=False, **extra)
            for extra in (dict(features=np.eye(mdp.n_pairs)), dict(method="multiplicative"))]
    assert runs[0].attrs["stop_reason"] == runs[1].attrs["stop_reason"] == "converged"
    assert runs[0].sizes["iteration"] == runs[1].sizes["iteration"] > 5
    np.testing.assert_allclose(runs[0].policy.values, runs[1].policy.values, rtol=0, atol=1e-10)
    # the geometric schedule grows the step by the shrinking of the largest advantage, which the
    # two runs compute to round-off (the compatible advantage against Q - V): times to 1e-10
    np.testing.assert_allclose(runs[0].time.values, runs[1].time.values, rtol=1e-10)


@pytest.mark.slow  # whole paper-environment runs (up to 3.6 s each): make test runs them, make test-fast not
@pytest.mark.parametrize("env, feature_set", [("hanoi", "tabular"), ("hanoi", "tabular+cluster-move"),
                                              ("wormhole", "tabular+room-direction")])
def test_tabular_plus_shared_features_give_the_multiplicative_run(env, feature_set):
    """Tabular features, alone or with shared coarse ones, on a paper environment at step 0.1: the
    multiplicative run to 1e-10, iteration by iteration to convergence (the same number of
    iterations), although the states off the optimal path fall to relative occupancies of 1e-31
    and below (Hanoi) and to occupancies that round to 0 (the wormhole): each state's own features
    are fitted first, whatever its occupancy (docs/MATH.md, identity 12, "The solve")."""
    mdp = himo.make_env(env)
    runs = [himo.solve(mdp, step_rule="fixed", step=0.1, tol=1e-5, store_counters=False, **extra)
            for extra in (dict(features=load_features(mdp, feature_set)), dict(method="multiplicative"))]
    assert runs[0].attrs["stop_reason"] == runs[1].attrs["stop_reason"] == "converged"
    assert runs[0].sizes["iteration"] == runs[1].sizes["iteration"]
    np.testing.assert_allclose(runs[0].policy.values, runs[1].policy.values, rtol=0, atol=1e-10)


@pytest.mark.parametrize("spec, lam", CASES)
def test_one_step_with_own_and_shared_features_is_the_pseudo_inverse_step(random_mdp, spec, lam):
    """One-hot features beside random shared ones (every state reached): the step of the
    elimination (each state's own features first, then the shared ones, the minimum norm over the
    whole theta) is ``pinv(I_theta) g_theta``, theta and policy to 1e-9."""
    mdp = random_mdp(**spec)
    phi = np.hstack([np.eye(mdp.n_pairs), random_features(mdp, 3, seed=7)])
    run = himo.solve(mdp, features=phi, lam=lam, step_rule="fixed", step=1.0, max_iter=1, store_counters=False)
    fisher, gradient = dense_fisher_and_gradient(mdp, phi, mdp.uniform_policy(), lam)
    theta = np.linalg.pinv(fisher, rcond=1e-10, hermitian=True) @ gradient
    np.testing.assert_allclose(run.theta.isel(iteration=1).values, theta, rtol=0, atol=1e-9 * max(1, abs(theta).max()))
    stepped = run.policy.isel(iteration=1).values[mdp.pair_state, mdp.pair_action]
    np.testing.assert_allclose(stepped, softmax_policy(mdp, phi @ theta), rtol=0, atol=1e-9)


def test_unreached_states_take_the_limit_of_a_vanishing_occupancy(random_mdp):
    """A state the start never reaches (``D_0i = 0``) has no rows in ``I_theta`` or ``g_theta``, so
    ``pinv(I_theta) g_theta`` leaves its own features at 0; the solve takes instead the limit
    ``D_0i -> 0+``, in which its own features fit its advantage (a fit its occupancy factors out
    of), as ``natural`` and ``multiplicative`` do: with one-hot features the run is the
    multiplicative run on every state to 1e-10, and one step's theta is the pseudo-inverse's on
    the reached states' features and not on the unreached state's (docs/MATH.md, identity 12)."""
    mdp = random_mdp(seed=2, action_counts=(3, 2, 3, 2), unreachable=(2,))
    runs = [himo.solve(mdp, lam=0.8, step_rule="fixed", step=0.5, max_iter=30, store_counters=False, **extra)
            for extra in (dict(features=np.eye(mdp.n_pairs)), dict(method="multiplicative"))]
    np.testing.assert_allclose(runs[0].policy.values, runs[1].policy.values, rtol=0, atol=1e-10)
    moved = runs[0].policy.sel(state="s2").where(runs[0].available.sel(state="s2"), drop=True)
    assert np.abs(moved.isel(iteration=-1).values - 1 / 3).max() > 0.05
    fisher, gradient = dense_fisher_and_gradient(mdp, np.eye(mdp.n_pairs), mdp.uniform_policy(), 0.8)
    pinv_theta = np.linalg.pinv(fisher, rcond=1e-10, hermitian=True) @ gradient
    theta = runs[0].theta.isel(iteration=1).values / 0.5
    own = mdp.pair_state == 2
    np.testing.assert_allclose(theta[~own], pinv_theta[~own], rtol=0, atol=1e-10)
    np.testing.assert_array_equal(pinv_theta[own], 0.0)
    assert np.abs(theta[own]).max() > 0.01


def test_the_compatible_advantage_is_the_weighted_fit_of_the_advantage(random_mdp, random_policy):
    """``w = I_theta^+ g_theta`` solves the normal equations of the least-squares fit of ``Q - V`` by
    the centred features, weighted by ``D_0i pi_ij`` (Kakade's compatible features)."""
    mdp = random_mdp(seed=5, action_counts=(2, 3, 3, 1, 4))
    policy = random_policy(mdp, seed=1)
    features = as_features(mdp, random_features(mdp, 5, seed=6))
    evaluation = evaluate(mdp, policy, 0.9)
    w, compatible = natural_feature_direction(mdp, features, policy, evaluation)
    fisher = feature_fisher(mdp, features, policy, evaluation.occupancy)
    np.testing.assert_allclose(fisher @ w, feature_gradient(mdp, features, policy, evaluation), atol=1e-12)
    weight = evaluation.occupancy[mdp.pair_state] * policy
    residual = compatible - evaluation.advantage
    mean_phi = np.add.reduceat(policy[:, None] * features.values, mdp.state_offsets[:-1], axis=0)[mdp.pair_state]
    np.testing.assert_allclose((features.values - mean_phi).T @ (weight * residual), 0, atol=1e-12)


def test_features_take_the_natural_method_and_the_prior(random_mdp):
    mdp = random_mdp(seed=0)
    with pytest.raises(ParameterError, match="natural path gradient in theta"):
        himo.solve(mdp, features=np.eye(mdp.n_pairs), method="multiplicative")
    with pytest.raises(ParameterError, match="theta = 0"):
        himo.solve(mdp, features=np.eye(mdp.n_pairs), initial_policy=mdp.uniform_policy())


def test_feature_layouts_agree(random_mdp):
    """``(n_pairs, n_features)``, ``phi(pair, feature)`` and ``phi(state, action, feature)`` (NaN or
    0 at the unavailable pairs, in any label order) are the same features."""
    mdp = random_mdp(seed=5, action_counts=(2, 3, 3, 1, 4))
    phi = random_features(mdp, 2, seed=0)
    dense = np.full((mdp.n_states, mdp.n_actions, 2), np.nan)
    dense[mdp.pair_state, mdp.pair_action] = phi
    by_state = xr.DataArray(dense, dims=("state", "action", "feature"),
                            coords={"state": list(mdp.state_labels), "action": list(mdp.action_labels),
                                    "feature": ["x", "y"]}).isel(state=slice(None, None, -1))
    from himo.mdp import pair_labels

    by_pair = xr.Dataset({"phi": (("pair", "feature"), phi)}, coords={"pair": pair_labels(mdp)})
    for given in (by_state, by_pair, xr.DataArray(np.nan_to_num(dense), dims=by_state.dims)
                  .assign_coords(state=list(mdp.state_labels), action=list(mdp.action_labels))):
        np.testing.assert_array_equal(as_features(mdp, given).values, phi)
    assert as_features(mdp, by_state).names == ("x", "y")


@pytest.mark.parametrize("make, message", [
    (lambda mdp: np.ones((mdp.n_states * mdp.n_actions, 2)), "gives features for the unavailable pairs"),
    (lambda mdp: np.ones((mdp.n_pairs + 1, 2)), "the MDP has 13 available pairs"),
    (lambda mdp: np.ones(mdp.n_pairs), r"must be an array \(n_pairs, n_features\)"),
    (lambda mdp: np.where(np.arange(mdp.n_pairs)[:, None] == 4, np.nan, np.ones((mdp.n_pairs, 2))),
     r"feature 0 of pair \(s=s1, a=.*\) is nan"),
    (lambda mdp: xr.DataArray(np.ones((mdp.n_states, mdp.n_actions, 2)), dims=("state", "action", "feature"),
                              coords={"state": list(mdp.state_labels), "action": list(mdp.action_labels)}),
     r"feature 0 is given \(1\) for the unavailable pair"),
    (lambda mdp: np.ones((mdp.n_pairs, 0)), "has no features"),
])
def test_bad_features_are_one_clear_error(random_mdp, make, message):
    mdp = random_mdp(seed=5, action_counts=(2, 3, 3, 1, 4))
    with pytest.raises(FeaturesError, match=message):
        himo.solve(mdp, features=make(mdp))


@pytest.mark.parametrize("write, message", [
    (lambda mdp, path: xr.Dataset({"phi": (("pair", "feature"), np.ones((mdp.n_states * mdp.n_actions, 2)))})
     .to_netcdf(path), "gives features for the unavailable pairs"),
    (lambda mdp, path: xr.Dataset({"phi": (("pair", "feature"), np.full((mdp.n_pairs, 2), np.nan))}).to_netcdf(path),
     "is nan"),
    (lambda mdp, path: xr.Dataset({"psi": (("pair", "feature"), np.ones((mdp.n_pairs, 2)))}).to_netcdf(path),
     "no variable 'phi'"),
])
def test_solve_refuses_bad_features_with_status_2_and_no_output(tmp_path, capsys, random_mdp, write, message):
    mdp = random_mdp(seed=5, action_counts=(2, 3, 3, 1, 4))
    himo.save_mdp(mdp, tmp_path / "mdp.nc")
    write(mdp, tmp_path / "phi.nc")
    out = tmp_path / "trajectory.nc"
    assert main(["solve", str(tmp_path / "mdp.nc"), str(out), "--features", str(tmp_path / "phi.nc")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("himo: error: features") and message in err and err.count("\n") == 1
    assert not out.exists()


def test_solve_with_a_registered_feature_set_writes_theta(tmp_path, capsys):
    """``himo solve --features tabular+cluster-move`` on Hanoi: the trajectory stores ``theta``
    with the features' names, and ``himo measures`` reads it like any run."""
    himo.save_mdp(himo.make_env("hanoi"), tmp_path / "hanoi.nc")
    out = tmp_path / "trajectory.nc"
    assert main(["solve", str(tmp_path / "hanoi.nc"), str(out), "--features", "tabular+cluster-move",
                 "--max-iter", "20", "--counters", "no"]) == 0
    with xr.open_dataset(out) as run:
        assert run.theta.dims == ("iteration", "feature") and run.sizes["feature"] == 105 + 21
        assert run.attrs["features"] == "tabular+cluster-move" and run.attrs["n_features"] == 126
        assert "peg-of-the-largest-disk=0|0->1" in run.feature.values
    assert main(["measures", str(out), str(tmp_path / "hanoi.nc"), str(tmp_path / "measures.nc")]) == 0
