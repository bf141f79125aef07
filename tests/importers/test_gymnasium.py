"""Gymnasium's toy-text environments, read from the real package, against a value
iteration written here directly on ``env.unwrapped.P``:

    Q(s, a) = sum over P[s][a] of  p (r + lambda (1 - terminated) V(s'))

which knows nothing of himo's merging of outcomes, absorbing states or ``end``.
"""

from __future__ import annotations

import re

import gymnasium
import numpy as np
import pytest
import xarray as xr

import himo
from himo.cli import main
from himo.importers import GymnasiumError, from_gymnasium
from himo.importers.gymnasium import END_STATE
from himo.solver import value_iteration
from himo.solver.settings import SolverSettings

LAM = 0.9
ENVIRONMENTS = [
    pytest.param(("FrozenLake-v1", {}), id="frozenlake-4x4-slippery"),
    pytest.param(("FrozenLake-v1", {"is_slippery": False}), id="frozenlake-4x4"),
    pytest.param(("FrozenLake-v1", {"map_name": "8x8"}), id="frozenlake-8x8-slippery"),
    pytest.param(("CliffWalking-v1", {}), id="cliffwalking"),
    pytest.param(("Taxi-v4", {}), id="taxi"),  # gymnasium 1.x: Taxi-v3 is deprecated in favour of v4
]


def value_iteration_on_P(P: dict, lam: float, tol: float = 1e-13) -> np.ndarray:
    """``V*`` on the environment's states, straight from ``P[s][a]`` outcome lists."""
    outcomes = [(s, a, p, ns, r, t) for s in P for a in P[s] for p, ns, r, t in P[s][a]]
    s, a, p, ns, r, t = (np.array(column) for column in zip(*outcomes))
    n_states, n_actions = len(P), int(a.max()) + 1
    V = np.zeros(n_states)
    while True:
        backup = p * (r + lam * np.where(t.astype(bool), 0.0, V[ns.astype(int)]))
        Q = np.bincount(s * n_actions + a, weights=backup, minlength=n_states * n_actions)
        new = Q.reshape(n_states, n_actions).max(axis=1)
        if np.max(np.abs(new - V)) < tol * (1 - lam):
            return new
        V = new


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def imported(request):
    env_id, kwargs = request.param
    env = gymnasium.make(env_id, **kwargs)
    yield env.unwrapped, from_gymnasium(env_id, **kwargs)
    env.close()


def test_optimum_is_value_iteration_on_P(imported):
    """``V*`` on every state where the path goes on, and the objective ``p0 . V*``."""
    env, mdp = imported
    expected = value_iteration_on_P(env.P, LAM)
    optimum = value_iteration(mdp, LAM)
    n_env = len(env.P)
    live = ~mdp.role("terminal")[:n_env]  # absorbing states have V = 0: the path has ended there
    np.testing.assert_allclose(optimum.value[:n_env][live], expected[live], rtol=1e-9, atol=1e-12)
    assert optimum.objective == pytest.approx(float(env.initial_state_distrib @ expected), rel=1e-9)


def test_himo_with_the_default_settings_converges_to_that_optimum(imported):
    """Every one, FrozenLake 8x8 slippery included: its optimum is 0.0064, so the
    advantages that drive the natural step are tiny, and with the fixed step of 1 it
    needed 282,766 iterations; the default step schedule takes a few dozen."""
    env, mdp = imported
    expected = float(env.initial_state_distrib @ value_iteration_on_P(env.P, LAM))
    assert LAM == SolverSettings().lam
    run = himo.solve(mdp, store_counters=False)
    assert run.attrs["stop_reason"] == "converged", run.attrs["stop_note"]
    assert run.attrs["n_iterations"] < 100
    assert float(run.objective[-1]) == pytest.approx(expected, rel=SolverSettings().tol)


def test_newton_converges_on_cliffwalking():
    """A regression: Algorithm 1 as printed with the default step, on CliffWalking (steps
    of -100 reward), rounded a probability to 0 at iteration 6 and the scaled Fisher
    solve raised 'array must not contain infs or NaNs'."""
    env = gymnasium.make("CliffWalking-v1")
    expected = float(env.unwrapped.initial_state_distrib @ value_iteration_on_P(env.unwrapped.P, LAM))
    run = himo.solve(from_gymnasium("CliffWalking-v1"), method="newton", store_counters=False)
    assert run.attrs["stop_reason"] == "converged", run.attrs["stop_note"]
    assert float(run.objective[-1]) == pytest.approx(expected, rel=1e-6)
    assert float(run.policy.min()) >= 0.0 and np.all(np.isfinite(run.policy.values))


def test_start_distribution_is_the_environments(imported):
    env, mdp = imported
    p0 = mdp.start_distribution[: len(env.P)]
    np.testing.assert_array_equal(p0, env.initial_state_distrib)
    assert mdp.start_distribution[len(env.P):].sum() == 0.0
    if type(env).__name__ == "TaxiEnv":
        assert mdp.start_states.size == 300


def test_outcomes_onto_one_state_are_merged():
    """Slippery FrozenLake, state 0, LEFT: stays with 1/3 twice (left, up), moves down with 1/3."""
    mdp = from_gymnasium("FrozenLake-v1")
    row = mdp.P[mdp.pair_index("0", "LEFT")]
    assert dict(zip(row.indices.tolist(), row.data.tolist())) == pytest.approx({0: 2 / 3, 4: 1 / 3})


def test_frozenlake_grid_and_terminal_states():
    mdp = from_gymnasium("FrozenLake-v1")
    assert mdp.n_states == 16, "holes and the goal are absorbing cells: no extra state"
    assert mdp.cells[6].tolist() == [1, 2] and mdp.walls.shape == (4, 4) and not mdp.walls.any()
    assert np.flatnonzero(mdp.role("hole")).tolist() == [5, 7, 11, 12]
    assert np.flatnonzero(mdp.role("goal")).tolist() == [15]
    assert np.flatnonzero(mdp.role("terminal")).tolist() == [5, 7, 11, 12, 15]
    assert mdp.start == 0
    # reaching the goal pays 1 on the way in; the goal then loops with reward 0
    into_goal = mdp.pair_index("14", "RIGHT")
    assert mdp.R[into_goal] == pytest.approx(1 / 3) and mdp.P[into_goal, 15] == pytest.approx(1 / 3)
    for action in mdp.action_labels:
        x = mdp.pair_index("15", action)
        assert mdp.R[x] == 0.0 and mdp.P[x].toarray().ravel().tolist() == [0.0] * 15 + [1.0]


def test_cliffwalking_grid():
    mdp = from_gymnasium("CliffWalking-v1")
    assert mdp.n_states == 48 and mdp.walls.shape == (4, 12)
    assert np.flatnonzero(mdp.role("cliff")).tolist() == list(range(37, 47))
    assert np.flatnonzero(mdp.role("goal")).tolist() == [47]
    assert np.flatnonzero(mdp.role("terminal")).tolist() == [47]
    assert mdp.state_labels[mdp.start] == "36"
    # stepping into the cliff costs 100 and returns to the start: the path goes on
    x = mdp.pair_index("36", "RIGHT")
    assert mdp.R[x] == -100.0 and mdp.P[x, 36] == 1.0


def test_taxi_ends_in_an_extra_state():
    """Taxi's drop-off states are also reached without terminating: terminated
    outcomes go to the extra absorbing state ``end`` instead."""
    mdp = from_gymnasium("Taxi-v4")
    assert mdp.n_states == 501 and mdp.state_labels[-1] == END_STATE
    assert np.flatnonzero(mdp.role("terminal")).tolist() == [500]
    assert mdp.cells is None and mdp.action_labels[-1] == "DROPOFF"
    ended = mdp.P[:, 500].toarray().ravel() > 0
    assert set(mdp.action_labels[a] for a in mdp.pair_action[ended & (mdp.pair_state < 500)]) == {"DROPOFF"}
    assert np.all(mdp.R[mdp.pair_state == 500] == 0.0)


def test_import_command_and_file_round_trip(tmp_path):
    out = tmp_path / "lake.nc"
    assert main(["import", "gymnasium:FrozenLake-v1", str(out), "--param", "is_slippery=false"]) == 0
    mdp = himo.load_mdp(out)
    direct = from_gymnasium("FrozenLake-v1", is_slippery=False)
    np.testing.assert_array_equal(mdp.P.toarray(), direct.P.toarray())
    np.testing.assert_array_equal(mdp.R, direct.R)
    assert mdp.attrs["title"] == "FrozenLake-v1 (is_slippery=False)"
    assert mdp.attrs["gymnasium_version"] == gymnasium.__version__  # the model is the package's
    np.testing.assert_array_equal(mdp.roles["hole"], direct.roles["hole"])
    # Taxi: its start distribution travels in the file
    assert main(["import", "gymnasium:Taxi-v4", str(tmp_path / "taxi.nc")]) == 0
    with xr.open_dataset(tmp_path / "taxi.nc") as ds:
        assert "start_state" not in ds.attrs and int((ds.start_distribution > 0).sum()) == 300


@pytest.mark.parametrize(
    "argv, match",
    [
        pytest.param(["gymnasium:NoSuchEnv-v0"], r"gymnasium cannot make 'NoSuchEnv-v0'", id="unknown-id"),
        pytest.param(["gymnasium:FrozenLake-v1", "--param", "colour=1"],
                     r"gymnasium\.make\('FrozenLake-v1', colour=1\)", id="unknown-keyword"),
        pytest.param(["gymnasium:CartPole-v1"], r"gymnasium CartPole-v1 has no tabular model env\.unwrapped\.P",
                     id="no-tabular-model"),
        pytest.param(["gymnasium:Taxi-v4", "--layout", "quantecon"],
                     r"--layout is for a \.npz file of arrays, not for a gymnasium:ENV_ID source", id="layout"),
        pytest.param(["gymnasium:Taxi-v4", "--start", "3"],
                     r"--start is for a \.npz file of arrays, not for a gymnasium:ENV_ID source", id="start"),
    ],
)
def test_bad_environments_are_refused(tmp_path, capsys, argv, match):
    out = tmp_path / "out.nc"
    assert main(["import", argv[0], str(out), *argv[1:]]) == 2
    err = capsys.readouterr().err
    assert err.startswith("himo: error: ") and err.count("\n") == 1 and re.search(match, err), err
    assert list(tmp_path.iterdir()) == []


def test_python_api_takes_an_environment():
    env = gymnasium.make("FrozenLake-v1", is_slippery=False)
    mdp = from_gymnasium(env)
    assert mdp.name == "FrozenLake-v1"
    np.testing.assert_array_equal(mdp.P.toarray(), from_gymnasium("FrozenLake-v1", is_slippery=False).P.toarray())
    with pytest.raises(GymnasiumError, match=r"keyword arguments \['map_name'\] are for gymnasium\.make"):
        from_gymnasium(env, map_name="8x8")
    env.close()


def test_a_broken_model_is_refused():
    class Broken:
        P = {0: {0: [(0.5, 0, 1.0, False)]}}
        initial_state_distrib = np.array([1.0])
        unwrapped = property(lambda self: self)

    with pytest.raises(GymnasiumError, match=r"the probabilities of P\[0\]\[0\] sum to 0\.5, not 1"):
        from_gymnasium(Broken())
