"""The prior a run starts from (settings ``prior_seed``, ``prior_concentration``;
himo.solver.policy.prior_policy): the uniform prior of Eq. 22, or a Dirichlet draw near it."""

import numpy as np
import pytest

import himo
from himo.cli import main
from himo.errors import ParameterError
from himo.solver.policy import prior_policy, state_sums
from tests.conftest import build_random_mdp


def test_seed_zero_is_the_uniform_prior_of_eq_22():
    mdp = build_random_mdp(seed=1)
    assert np.array_equal(prior_policy(mdp, 0, 100.0), mdp.uniform_policy())
    assert np.array_equal(prior_policy(mdp, 0, 1e-6), mdp.uniform_policy())  # the concentration is not read


def test_a_drawn_prior_is_a_policy_the_same_for_the_same_seed():
    mdp = build_random_mdp(seed=2, action_counts=(3, 1, 2, 4))
    first, again, other = prior_policy(mdp, 7, 100.0), prior_policy(mdp, 7, 100.0), prior_policy(mdp, 8, 100.0)
    assert np.array_equal(first, again)
    assert not np.allclose(first, other)
    assert np.all(first > 0)
    np.testing.assert_allclose(state_sums(mdp, first), 1.0, rtol=0, atol=1e-15)
    single = np.flatnonzero(mdp.actions_per_state[mdp.pair_state] == 1)
    assert single.size and np.all(first[single] == 1.0)


def test_the_draws_have_the_dirichlet_moments():
    """Over many seeds each probability has the symmetric Dirichlet's mean 1/k and
    variance (1/k)(1 - 1/k)/(c + 1), and two of one state covary as -(1/k^2)/(c + 1):
    an independent route (the distribution's moments) to the Gamma construction."""
    mdp = build_random_mdp(seed=3, action_counts=(4, 2, 3, 5))
    c, n = 20.0, 4000
    draws = np.array([prior_policy(mdp, seed, c) for seed in range(1, n + 1)])
    k = mdp.actions_per_state[mdp.pair_state].astype(float)
    variance = (1 / k) * (1 - 1 / k) / (c + 1)
    mean_error = (draws.mean(axis=0) - 1 / k) / np.sqrt(variance / n)
    assert np.all(np.abs(mean_error) < 4.5)
    np.testing.assert_allclose(draws.var(axis=0), variance, rtol=0.1)
    first_state = np.flatnonzero(mdp.pair_state == 0)[:2]
    covariance = np.cov(draws[:, first_state[0]], draws[:, first_state[1]])[0, 1]
    k0 = k[first_state[0]]
    assert covariance == pytest.approx(-(1 / k0**2) / (c + 1), rel=0.15)


def test_a_larger_concentration_draws_nearer_the_uniform_prior():
    mdp = himo.make_env("fourrooms")
    spread = [np.abs(prior_policy(mdp, 5, c) - mdp.uniform_policy()).max() for c in (10.0, 100.0, 10_000.0)]
    assert spread[0] > spread[1] > spread[2] > 0


def test_a_run_starts_at_its_prior_and_records_the_seed():
    mdp = himo.make_env("hanoi")
    run = himo.solve(mdp, lam=0.9, step=0.1, step_rule="fixed", tol=1e-5, prior_seed=4, prior_concentration=50.0)
    first = run["policy"].isel(iteration=0).values[mdp.pair_state, mdp.pair_action]
    assert np.array_equal(first, prior_policy(mdp, 4, 50.0))
    assert run.attrs["prior_seed"] == 4 and run.attrs["prior_concentration"] == 50.0
    assert run.attrs["stop_reason"] == "converged"
    uniform = himo.solve(mdp, lam=0.9, step=0.1, step_rule="fixed", tol=1e-5)
    assert uniform.attrs["prior_seed"] == 0
    np.testing.assert_allclose(uniform["policy"].isel(iteration=0).values[mdp.pair_state, mdp.pair_action],
                               mdp.uniform_policy(), rtol=0, atol=0)


def test_an_initial_policy_and_a_prior_seed_together_are_an_error():
    mdp = build_random_mdp(seed=4)
    with pytest.raises(ParameterError, match="either an initial policy or prior_seed"):
        himo.solve(mdp, prior_seed=1, initial_policy=mdp.uniform_policy())


def test_a_concentration_too_small_for_a_positive_prior_is_named():
    mdp = himo.make_env("fourrooms")
    with pytest.raises(ParameterError, match="prior_concentration 1e-05 is too small.*seed 1"):
        prior_policy(mdp, 1, 1e-5)


@pytest.mark.parametrize("option", ["--prior-seed=-1", "--prior-concentration=0"])
def test_the_cli_rejects_a_bad_prior_with_status_2(tmp_path, capsys, option):
    env, out = tmp_path / "env.nc", tmp_path / "t.nc"
    assert main(["env", "hanoi", str(env)]) == 0
    capsys.readouterr()
    assert main(["solve", str(env), str(out), option]) == 2
    error = capsys.readouterr().err
    assert error.startswith("himo: error:") and "prior_" in error and not out.exists()
