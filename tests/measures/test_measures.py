"""The measures of paper section 4 (himo.measures.dataset) against closed forms."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import xarray as xr

import himo
from himo.measures.dataset import (
    gap_order,
    half_time,
    max_normalize,
    measures_dataset,
    optimal_path,
    peak_time,
    policy_divergence,
    prior_rate,
    priority,
    TIME_SERIES,
    time_derivative,
    time_series,
)
from himo.errors import HimoError
from himo.mdp import MDP
from himo.solver.evaluation import evaluate
from himo.solver.policy import state_argmax, state_max
from tests.conftest import build_random_policy

LAM = 0.9


def two_state_mdp() -> MDP:
    """A (start): 'stay' (-> A) or 'go' (-> B); B: only 'stay' (-> B), which earns 1."""
    return MDP.from_pairs(
        name="two",
        state_labels=["A", "B"],
        action_labels=["stay", "go"],
        pair_state=[0, 0, 1],
        pair_action=[0, 1, 0],
        P=sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])),
        R=[0.0, 0.0, 1.0],
        start="A",
        roles={"goal": [False, True]},
        layout=[[0.0, 0.0], [1.0, 0.0]],
    )


def trajectory_for(mdp: MDP, p_go: np.ndarray, time: np.ndarray) -> xr.Dataset:
    """A trajectory dataset for the policy sequence pi_t(go | A) = p_go[t]."""
    pairs = np.column_stack([1 - p_go, p_go, np.ones_like(p_go)])  # (n_times, n_pairs)
    policy = np.zeros((p_go.size, 2, 2))
    policy[:, 0, 0], policy[:, 0, 1], policy[:, 1, 0] = 1 - p_go, p_go, 1.0
    evals = [evaluate(mdp, row, LAM) for row in pairs]
    return xr.Dataset(
        {
            "policy": (("iteration", "state", "action"), policy),
            "occupancy": (("iteration", "state"), np.array([e.occupancy for e in evals])),
            "objective": ("iteration", np.array([e.objective for e in evals])),
        },
        coords={"iteration": np.arange(p_go.size), "time": ("iteration", time),
                "state": ["A", "B"], "action": ["stay", "go"]},
        attrs={"foresight": LAM, "method": "test", "env_key": "two", "paper_env": "", "start_state": "A"},
    )


def test_two_state_pd_cd_closed_form():
    mdp = two_state_mdp()
    p = np.array([0.5, 0.55, 0.7, 0.9, 0.97, 0.99])
    time = np.array([0.0, 0.3, 0.5, 1.2, 1.3, 2.0])
    ds = measures_dataset(trajectory_for(mdp, p, time), mdp)
    pd_a = p * np.log(p / 0.5) + (1 - p) * np.log((1 - p) / 0.5)
    d_a = 1 / (1 - LAM * (1 - p))
    d_b = LAM * p * d_a / (1 - LAM)
    np.testing.assert_allclose(ds.PD.sel(state="A"), pd_a, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(ds.PD.sel(state="B"), 0.0)
    np.testing.assert_allclose(ds.CD.sel(state="A"), d_a - d_a[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ds.CD.sel(state="B"), d_b - d_b[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(time_series(ds, "PD_norm").sel(state="A"), pd_a / pd_a.max())
    cd_b = d_b - d_b[0]
    np.testing.assert_allclose(time_series(ds, "CD_norm").sel(state="B"), cd_b / np.abs(cd_b).max())
    np.testing.assert_array_equal(time_series(ds, "PD_norm").sel(state="B"), 0.0)  # max 0 -> 0, not NaN
    assert np.isnan(float(ds.priority.sel(state="B")))  # single action: no priority
    assert np.isfinite(float(ds.priority.sel(state="A")))
    assert list(ds.on_optimal_path.values) == [True, True]
    assert list(ds.optimal_path_position.values) == [0, 1]
    np.testing.assert_allclose(ds.final_occupancy, [d_a[-1], d_b[-1]])
    assert ds.attrs["foresight"] == LAM and ds.attrs["env_key"] == "two"
    assert "layout_x" in ds and "role_goal" in ds
    for name in ("PD", "CD", "priority", "objective", "final_occupancy"):
        assert "long_name" in ds[name].attrs and "units" in ds[name].attrs, name
    for name in TIME_SERIES:
        assert "long_name" in time_series(ds, name).attrs and "units" in time_series(ds, name).attrs, name


def test_policy_divergence_zero_log_zero():
    prior = np.array([[0.5, 0.5]])
    assert policy_divergence(np.array([[1.0, 0.0]]), prior)[0] == pytest.approx(np.log(2))


def test_normalize_never_nan():
    values = np.zeros((4, 3))
    values[:, 1] = [0, -2, 1, 0.5]
    out = max_normalize(values, absolute=True)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out[:, 1], [0, -1, 0.5, 0.25])
    np.testing.assert_array_equal(out[:, 0], 0)


def uneven_grid(rng, n, lo=0.0, hi=2.0):
    steps = rng.uniform(0.3, 1.7, size=n - 1)
    return lo + np.concatenate([[0.0], np.cumsum(steps)]) * (hi - lo) / steps.sum()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_derivative_exact_for_quadratic_interior(seed):
    rng = np.random.default_rng(seed)
    t = uneven_grid(rng, 30)
    d = time_derivative(3 * t**2 - t + 2, t)
    np.testing.assert_allclose(d[1:-1], 6 * t[1:-1] - 1, rtol=1e-10, atol=1e-10)
    # the ends are the one-sided secants
    assert d[0] == pytest.approx((3 * t[1] ** 2 - t[1] - 3 * t[0] ** 2 + t[0]) / (t[1] - t[0]))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_derivative_second_order_on_uneven_grids(seed):
    rng = np.random.default_rng(seed)
    hmax, errors = [], []
    for n in (40, 80, 160, 320, 640):
        t = uneven_grid(rng, n, 0.0, 3.0)
        d = time_derivative(np.sin(t), t)
        err = np.abs(d[1:-1] - np.cos(t[1:-1]))
        # the three-point error is h1 h2 f3(xi) / 6, and |f3| <= 1 for sin
        h = np.diff(t)
        assert np.all(err <= h[:-1] * h[1:] / 6 + 1e-13)
        hmax.append(h.max())
        errors.append(err.max())
    order = np.polyfit(np.log(hmax), np.log(errors), 1)[0]
    assert order > 1.8, order


def test_derivative_of_columns_and_bad_time():
    t = np.array([0.0, 0.5, 2.0])
    values = np.column_stack([t, 2 * t])
    np.testing.assert_allclose(time_derivative(values, t), [[1, 2]] * 3)
    with pytest.raises(HimoError):
        time_derivative(values, np.array([0.0, 1.0, 1.0]))


def test_peak_at_end_only_when_velocity_increases():
    rng = np.random.default_rng(3)
    t = uneven_grid(rng, 50, 0.0, 2.0)
    # velocity t^2 (increasing): the peak is at the last time
    assert priority(t**3 / 3, t) == pytest.approx(t[-1])
    # velocity exp(-(t-0.7)^2 / 0.02): the peak is at 0.7, not an end
    from scipy.special import erf

    f = np.sqrt(np.pi * 0.02) / 2 * (erf((t - 0.7) / np.sqrt(0.02)) + 1)
    assert priority(f, t) == pytest.approx(0.7, abs=0.02)


def test_no_spurious_end_peak_from_one_sided_extrapolation():
    # The velocity rises to an interior peak and comes down; the last steps are
    # tiny and uneven. A second-order one-sided end formula extrapolates the
    # curvature and overshoots; the secant used here cannot exceed the interior peak.
    t = np.array([0.0, 0.3, 0.6, 0.9, 1.2, 1.5, 1.5001, 1.6])
    f = np.where(t < 0.9, t**2, 0.81 + 1.8 * (t - 0.9) - 1.5 * (t - 0.9) ** 2)
    v = time_derivative(f, t)
    assert np.argmax(v) not in (0, len(t) - 1)
    assert v.max() <= 1.8 + 1e-12  # the true maximum of f'
    assert not np.isclose(priority(f, t), t[-1])


def test_peak_time_valid_mask_and_ties():
    t = np.array([0.0, 1.0, 2.0, 3.0])
    v = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    out = peak_time(v, t, valid=np.array([True, False]))
    assert 1.0 <= out[0] <= 2.0 and np.isnan(out[1])


def test_optimal_path_stops_at_repeat():
    mdp = two_state_mdp()
    policy = np.array([[0.2, 0.8], [1.0, 0.0]])
    assert optimal_path(mdp, policy) == [0, 1]
    assert optimal_path(mdp, np.array([[0.8, 0.2], [1.0, 0.0]])) == [0]


def test_measures_reject_other_mdp():
    mdp = two_state_mdp()
    traj = trajectory_for(mdp, np.array([0.5, 0.6]), np.array([0.0, 1.0]))
    with pytest.raises(HimoError):
        measures_dataset(traj.assign_coords(state=["X", "Y"]), mdp)


def graph_of_P(mdp: MDP) -> list[tuple[int, int]]:
    """The undirected transition graph without self-loops, pair by pair from P itself."""
    P = mdp.P.toarray()
    edges = set()
    for x in range(mdp.n_pairs):
        i = int(mdp.pair_state[x])
        for k in np.flatnonzero(P[x] > 0):
            if k != i:
                edges.add((min(i, int(k)), max(i, int(k))))
    return sorted(edges)


@pytest.mark.parametrize("env", ["hanoi", "fourrooms", "wormhole", "random", "two"])
def test_state_graph_is_the_graph_of_P(env, random_mdp):
    if env == "random":
        mdp = random_mdp(seed=3, action_counts=(3, 1, 2, 4, 2, 1), zero_fraction=0.6)
    elif env == "two":
        mdp = two_state_mdp()
    else:
        mdp = himo.make_env(env)
    traj = himo.solve(mdp, lam=0.9, method="natural", step=0.5, max_iter=2, store_counters=False)
    ds = measures_dataset(traj, mdp)
    stored = list(zip(ds.edge_source.values.tolist(), ds.edge_target.values.tolist()))
    assert stored == graph_of_P(mdp)  # each edge once, source < target, sorted
    assert ds.edge_source.dtype.kind == "i" and ds.edge_source.dims == ("edge",)
    assert len(stored) > 0


def test_final_action_is_the_action_the_path_takes():
    """Probabilities within PATH_ACTION_ATOL are tied, and ties go to the first action, in
    the path and in final_action alike (the largest by round-off does not win)."""
    mdp = two_state_mdp()
    p_go = np.array([0.5, 0.5 - 1e-9])  # 'stay' is larger by 1e-9: tied with 'go'
    ds = measures_dataset(trajectory_for(mdp, p_go, np.array([0.0, 1.0])), mdp)
    assert ds.final_action.values.tolist() == ["stay", "stay"]
    assert ds.optimal_path_position.values.tolist() == [0, -1]
    mdp_go_first = MDP.from_pairs(
        name="two", state_labels=["A", "B"], action_labels=["go", "stay"], pair_state=[0, 0, 1],
        pair_action=[1, 0, 1], P=sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])),
        R=[0.0, 0.0, 1.0], start="A")
    policy = np.zeros((2, 2, 2))
    policy[:, 0] = [[0.5, 0.5], [0.5 - 1e-9, 0.5 + 1e-9]]  # (go, stay): 'stay' larger by round-off
    policy[:, 1, 1] = 1.0
    traj = trajectory_for(mdp, p_go, np.array([0.0, 1.0])).assign_coords(action=["go", "stay"])
    traj["policy"] = (("iteration", "state", "action"), policy)
    ds = measures_dataset(traj, mdp_go_first)
    assert ds.final_action.values.tolist() == ["go", "stay"]
    assert ds.optimal_path_position.values.tolist() == [0, 1]


# ------------------------------------------------- the alternative priority
def test_half_time_by_hand():
    """PD~ crosses 1/2 between the stored times where it is 0.2 and 0.6 (linear in
    between), at the first crossing when PD rises, falls and rises again, at t_0 when
    it starts there; a state whose PD stays 0 has none."""
    time = np.array([0.0, 1.0, 2.0, 4.0])
    pd = np.column_stack([
        [0.0, 0.2, 0.6, 1.0],  # crosses at 1 + (0.5 - 0.2) / (0.6 - 0.2) = 1.75
        [0.0, 1.6, 0.8, 2.0],  # PD~ 0, 0.8, 0.4, 1: first at 0.5 / 0.8 = 0.625
        [0.0, 0.0, 0.0, 0.0],  # never moves
        [0.0, 0.0, 0.0, 3.0],  # crosses at 2 + 0.5 * 2 = 3
    ])
    np.testing.assert_allclose(half_time(pd, time), [1.75, 0.625, np.nan, 3.0])
    assert half_time(np.array([[1.0], [1.0]]), np.array([0.5, 1.0]))[0] == 0.5


def test_half_time_of_a_logistic_on_a_fine_grid():
    """PD = 1 / (1 + exp(-(t - c) / w)) - its value at 0, rescaled: PD~ = 1/2 where
    the logistic is halfway between its values at 0 and at the end (closed form)."""
    time = np.linspace(0.0, 10.0, 2001)
    c, w = 4.0, 0.7
    logistic = 1 / (1 + np.exp(-(time - c) / w))
    pd = (logistic - logistic[0])[:, None]
    target = (logistic[0] + logistic[-1]) / 2
    expected = c + w * np.log(target / (1 - target))
    assert half_time(pd, time)[0] == pytest.approx(expected, abs=1e-5)


# -------------------------------------------- against the dynamic-programming order
def chain_mdp(n: int = 5, trap_at: int | None = None, trap_reward: float = 0.0) -> MDP:
    """States s0 ... s(n-1) on a line, start s0, goal s(n-1): 'left' and 'right' (the
    goal: 'left' and 'stay', which earns 1). With ``trap_at``, that state's 'left'
    leads instead into a trap, an extra last state whose 'left' and 'stay' both stay
    there and earn ``trap_reward`` (no action of the trap is wrong: it has no gap)."""
    n_states = n + (trap_at is not None)
    pair_state, pair_action, target, reward = [], [], [], []
    for i in range(n_states):
        trap = i == n
        for action, k in (("left", i if trap else n if i == trap_at else max(i - 1, 0)),
                          ("right" if i < n - 1 else "stay", i if trap else min(i + 1, n - 1))):
            pair_state.append(i)
            pair_action.append(0 if action == "left" else 1 if action == "right" else 2)
            target.append(k)
            reward.append(trap_reward if trap else 1.0 if action == "stay" else 0.0)
    P = sp.csr_matrix((np.ones(len(target)), (np.arange(len(target)), target)), shape=(len(target), n_states))
    return MDP.from_pairs(
        name="chain", state_labels=[f"s{i}" for i in range(n)] + ["trap"] * (trap_at is not None),
        action_labels=["left", "right", "stay"],
        pair_state=pair_state, pair_action=pair_action, P=P, R=reward, start="s0",
        roles={"goal": [i == n - 1 for i in range(n_states)]},
    )


def trajectory_of(mdp: MDP, pair_policy: np.ndarray, time: np.ndarray) -> xr.Dataset:
    """A trajectory dataset for the policies ``pair_policy`` (n_times, n_pairs)."""
    evals = [evaluate(mdp, row, LAM) for row in pair_policy]
    policy = np.zeros((time.size, mdp.n_states, mdp.n_actions))
    policy[:, mdp.pair_state, mdp.pair_action] = pair_policy
    return xr.Dataset(
        {
            "policy": (("iteration", "state", "action"), policy),
            "occupancy": (("iteration", "state"), np.array([e.occupancy for e in evals])),
            "objective": ("iteration", np.array([e.objective for e in evals])),
        },
        coords={"iteration": np.arange(time.size), "time": ("iteration", time),
                "state": list(mdp.state_labels), "action": list(mdp.action_labels)},
        attrs={"foresight": LAM, "method": "test", "env_key": "chain", "paper_env": "",
               "start_state": mdp.state_labels[mdp.start]},
    )


def distance_ordered_run(mdp: MDP, time: np.ndarray, centre_of_distance) -> xr.Dataset:
    """Each state's policy turns towards the goal along a logistic in time centred at
    ``centre_of_distance(distance to the goal)``, from the uniform prior."""
    from himo.solver.value_iteration import goal_distance

    centre = np.asarray(centre_of_distance(goal_distance(mdp).astype(float)))
    good = np.array([mdp.action_labels[a] in ("right", "stay") for a in mdp.pair_action])
    logistic = 1 / (1 + np.exp(-(time[:, None] - centre[None, :]) / 0.3))
    turned = (logistic - logistic[:1]) / (1 - logistic[:1])  # 0 at t = 0, towards 1
    p_good = 0.5 + 0.49 * turned
    pair_policy = np.where(good, p_good[:, mdp.pair_state], 1 - p_good[:, mdp.pair_state])
    return trajectory_of(mdp, pair_policy, time)


def test_priorities_that_follow_the_distance_agree_with_the_dp_order():
    """A run whose states turn in the order of their distance to the goal (the goal
    first): DP priority = goal distance, Kendall tau = 1 for both priority
    definitions, every on-path state its own rank."""
    mdp = chain_mdp()
    time = np.arange(0.0, 8.0, 0.05)
    ds = measures_dataset(distance_ordered_run(mdp, time, lambda d: 1.0 + d), mdp)
    assert ds.optimal_path_position.values.tolist() == [0, 1, 2, 3, 4]
    assert ds.goal_distance.values.tolist() == [4, 3, 2, 1, 0]
    np.testing.assert_array_equal(ds.dp_priority, ds.goal_distance)
    assert float(ds.kendall_tau_dp) == pytest.approx(1.0)
    assert float(ds.kendall_tau_dp_half) == pytest.approx(1.0)
    assert ds.kendall_tau_dp.attrs["resolution"] == pytest.approx(0.05)
    assert ds.kendall_tau_dp.attrs["n_compared"] == 5 and ds.kendall_tau_dp.attrs["n_tie_groups"] == 5
    assert ds.priority_rank.values.tolist() == [4, 3, 2, 1, 0]
    np.testing.assert_allclose(ds.priority_normalized, [1.0, 0.75, 0.5, 0.25, 0.0], atol=0.02)


def test_priorities_against_the_distance_and_near_ties():
    """Reversed order: tau = -1. Centres 0.01 apart on a grid of 0.05 (0.04 from the
    first to the last) are near-ties: one rank, and no order to correlate (NaN), not
    an order made by round-off."""
    mdp = chain_mdp()
    time = np.arange(0.0, 8.0, 0.05)
    reversed_run = measures_dataset(distance_ordered_run(mdp, time, lambda d: 5.0 - d), mdp)
    assert float(reversed_run.kendall_tau_dp) == pytest.approx(-1.0)
    tied_run = measures_dataset(distance_ordered_run(mdp, time, lambda d: 2.0 + 0.01 * d), mdp)
    assert set(tied_run.priority_rank.values.tolist()) == {0}
    assert np.isnan(float(tied_run.kendall_tau_dp))
    assert tied_run.kendall_tau_dp.attrs["n_tie_groups"] == 1


def test_gap_order_by_hand():
    """A chain whose s1 can step into a trap: s1's wrong action costs it everything,
    ``Delta* = V*_1 = lambda^3 / (1 - lambda)``, the largest gap; elsewhere the wrong
    action is 'left', ``Delta* = lambda^d (1 + lambda)`` at distance d (at s0, where
    'left' stays, ``lambda^4``). A run that follows the distance agrees with the DP
    order (tau 1) but not with the gap order: s1 comes before s2, s3 and s4 there,
    3 of the 10 pairs discordant, tau = (7 - 3) / 10."""
    mdp = chain_mdp(trap_at=1)
    time = np.arange(0.0, 8.0, 0.05)
    ds = measures_dataset(distance_ordered_run(mdp, time, lambda d: 1.0 + d), mdp)
    d = np.array([4.0, 3, 2, 1, 0])
    np.testing.assert_allclose(ds.optimal_gap[:5], [LAM**4, LAM**3 / (1 - LAM), *(LAM ** d[2:] * (1 + LAM))],
                               rtol=1e-10)
    assert np.isnan(float(ds.optimal_gap[5]))  # the trap: every action optimal
    assert ds.optimal_path_position.values.tolist() == [0, 1, 2, 3, 4, -1]
    assert float(ds.kendall_tau_dp) == pytest.approx(1.0)
    assert float(ds.kendall_tau_gap) == pytest.approx(0.4)
    tau = ds.kendall_tau_gap.attrs
    assert tau["reference"] == "optimal_gap" and tau["n_compared"] == 5 and tau["n_tie_groups"] == 5
    assert tau["resolution"] == ds.kendall_tau_dp.attrs["resolution"] == pytest.approx(0.05)
    np.testing.assert_array_equal(gap_order(ds.optimal_gap.values, 1e-9), [4, 0, 3, 2, 1, np.nan])


def test_gap_order_ties_what_round_off_separates():
    """A rank counts the gaps larger beyond the tolerance: the tied pair shares rank 1, and
    the gap after it has rank 3 (three larger), as the priority ranks count."""
    gap = np.array([1.0, 1.0 + 1e-15, 0.5, np.nan, 2.0])
    np.testing.assert_array_equal(gap_order(gap, 1e-9), [1, 1, 3, np.nan, 0])
    np.testing.assert_array_equal(gap_order(gap, 0.0), [2, 1, 3, np.nan, 0])


@pytest.mark.parametrize("env", ["hanoi", "fourrooms", "wormhole"])
def test_dp_fields_are_the_goal_distance_on_the_paper_environments(env):
    """dp_priority at the run's foresight, and goal_distance, stored with the measures
    of a (short) run: equal on the paper's environments."""
    from himo.solver.value_iteration import dp_order, goal_distance, optimal_gap

    mdp = himo.make_env(env)
    ds = measures_dataset(himo.solve(mdp, lam=0.8, method="natural", max_iter=2, store_counters=False), mdp)
    np.testing.assert_array_equal(ds.goal_distance, goal_distance(mdp))
    np.testing.assert_array_equal(ds.dp_priority, dp_order(mdp, 0.8))
    np.testing.assert_array_equal(ds.dp_priority, ds.goal_distance)
    assert ds.dp_priority.dtype == np.int64 and ds.kendall_tau_dp.dims == ()
    np.testing.assert_array_equal(ds.optimal_gap, optimal_gap(mdp, 0.8))
    # the gap order is the distance order there (docs/MATH.md, section 10): the same tau
    assert ds.kendall_tau_gap.dims == ()
    np.testing.assert_equal(float(ds.kendall_tau_gap), float(ds.kendall_tau_dp))
    # the run starts from the uniform prior (Eq. 22): its gap, by a dense solve
    np.testing.assert_allclose(ds.prior_rate, dense_rate(mdp, mdp.uniform_policy(), 0.8), rtol=1e-9)
    assert ds.kendall_tau_prior.dims == ()


# ------------------------------------------------- the prior's rate (section 10)
def dense_rate(mdp: MDP, pair_policy: np.ndarray, lam: float) -> np.ndarray:
    """The rate of each state's best-action log-odds, state by state: ``Q`` from a
    dense solve of the definitions (tests/solver/test_mechanism.py), then the
    ``pi``-weighted mean of ``Q_best - Q_k`` over the actions more than the tie
    tolerance ``1e-9 max|R| / (1 - lam)`` below the best; 0 where there is none, NaN
    for a single action."""
    from tests.solver.test_mechanism import dense_evaluation

    q = dense_evaluation(mdp, pair_policy, lam)[0]
    tie = 1e-9 * np.abs(mdp.R).max() / (1 - lam)
    rates = []
    for s in range(mdp.n_states):
        mine, weight = q[mdp.pair_state == s], pair_policy[mdp.pair_state == s]
        other = mine < mine.max() - tie
        rate = np.sum(weight[other] * (mine.max() - mine[other])) / weight[other].sum() if other.any() else 0.0
        rates.append(rate if mine.size > 1 else np.nan)
    return np.array(rates)


def best_log_odds(pair_policy: np.ndarray, best: np.ndarray) -> np.ndarray:
    """``log(pi_b / (1 - pi_b))`` of the pairs ``best`` (``(..., n_pairs)`` policies)."""
    p_best = pair_policy[..., best]
    return np.log(p_best) - np.log1p(-p_best)


@pytest.mark.parametrize("p_go", [0.5, 0.1, 0.9])
def test_prior_rate_of_two_states_by_hand(p_go):
    """A: 'stay' or 'go' (to B, which earns 1 forever, its only action). Under an
    initial pi(go | A) = p: V_B = 1 / (1 - lam), V_A = lam p V_B / (1 - lam (1 - p)),
    so A's rate, with one other action, is Q_go - Q_stay = lam (V_B - V_A) =
    lam / (1 - lam (1 - p)) (the uniform prior: lam / (1 - lam / 2)); B has one action,
    no rate. Later policies do not enter."""
    mdp = two_state_mdp()
    ds = measures_dataset(trajectory_for(mdp, np.array([p_go, 0.99, 0.999]), np.array([0.0, 1.0, 2.0])), mdp)
    assert float(ds.prior_rate[0]) == pytest.approx(LAM / (1 - LAM * (1 - p_go)), rel=1e-12)
    assert np.isnan(float(ds.prior_rate[1]))
    assert ds.prior_rate.attrs["units"] == "reward"


@pytest.mark.parametrize("seed, lam", [(2, 0.7), (5, 0.9), (11, 0.99)])
def test_prior_rate_equals_the_dense_rate(random_mdp, seed, lam):
    """Random MDPs with single-action states (NaN) and uneven action sets, under the
    uniform prior and under another policy; under the uniform prior it is the largest
    advantage times n_i / (n_i - 1), not the gap to the nearest rival."""
    mdp = random_mdp(seed=seed, action_counts=(3, 1, 2, 4, 1, 5), n_actions=5)
    for policy in (mdp.uniform_policy(), build_random_policy(mdp, seed=seed, concentration=0.5)):
        np.testing.assert_allclose(prior_rate(mdp, policy, lam), dense_rate(mdp, policy, lam), rtol=1e-9, atol=1e-12)
    uniform = mdp.uniform_policy()
    rate = prior_rate(mdp, uniform, lam)
    assert np.isnan(rate[[1, 4]]).all()
    several = mdp.actions_per_state > 1
    n = mdp.actions_per_state[several]
    largest_advantage = state_max(mdp, evaluate(mdp, uniform, lam).advantage)[several]
    np.testing.assert_allclose(rate[several], largest_advantage * n / (n - 1), rtol=1e-9)
    many = mdp.actions_per_state > 2  # there the nearest rival is not all the others
    assert not np.allclose(rate[many], optimal_gap_of(mdp, uniform, lam)[many], rtol=1e-3)


def optimal_gap_of(mdp: MDP, pair_policy: np.ndarray, lam: float) -> np.ndarray:
    """The gap of ``Q`` of ``pair_policy`` to the nearest rival (the functional of
    ``optimal_gap``), by brute force (tests/solver/test_dp_order.py)."""
    from tests.solver.test_dp_order import brute_force_optimal_gap
    from tests.solver.test_mechanism import dense_evaluation

    return brute_force_optimal_gap(mdp, lam, dense_evaluation(mdp, pair_policy, lam)[1])


@pytest.mark.parametrize("seed, lam", [(3, 0.9), (7, 0.99)])
def test_prior_rate_is_the_initial_rate_of_the_best_actions_log_odds(random_mdp, seed, lam):
    """Identity 10 at t = 0, by the flow itself: runs of the multiplicative step
    (``pi <- pi exp(alpha A) / Z``) from a random initial policy, and the finite
    difference of each state's best-action log-odds over the first step. It matches
    prior_rate to first order in the step: the error halves with the step and is
    below 1% at the smallest."""
    mdp = random_mdp(seed=seed, action_counts=(4, 3, 1, 5, 2), n_actions=5)
    initial = build_random_policy(mdp, seed=seed, concentration=0.5)
    rate = prior_rate(mdp, initial, lam)
    several = mdp.actions_per_state > 1
    best = state_argmax(mdp, evaluate(mdp, initial, lam).q)[several]
    errors = []
    for step in (0.004, 0.002, 0.001):
        ds = himo.solve(mdp, lam=lam, method="multiplicative", step=step, max_iter=1, initial_policy=initial,
                        tol=1e-300, store_counters=False)
        policy = ds.policy.values[:, mdp.pair_state, mdp.pair_action]
        moved = np.diff(best_log_odds(policy, best), axis=0)[0] / float(ds.time[1])
        errors.append(np.max(np.abs(moved - rate[several]) / rate[several]))
    assert errors[2] < 0.01
    np.testing.assert_allclose(np.array(errors[:2]) / np.array(errors[1:]), 2.0, rtol=0.05)


def test_prior_rate_reads_the_runs_initial_policy():
    """A run started from a policy that favours 'left' everywhere: its prior_rate is
    that policy's dense rate, not the uniform prior's (which differs by more than a
    third at every state but the goal)."""
    mdp = chain_mdp()
    lefty = np.where(np.array(mdp.action_labels)[mdp.pair_action] == "left", 0.9, 0.1)
    ds = measures_dataset(himo.solve(mdp, lam=LAM, method="natural", max_iter=3, initial_policy=lefty), mdp)
    np.testing.assert_allclose(ds.prior_rate, dense_rate(mdp, lefty, LAM), rtol=1e-9)
    uniform = dense_rate(mdp, mdp.uniform_policy(), LAM)
    assert np.all(np.abs(ds.prior_rate.values[:-1] / uniform[:-1] - 1) > 1 / 3)
    started = measures_dataset(himo.solve(mdp, lam=LAM, method="natural", max_iter=3), mdp)
    np.testing.assert_allclose(started.prior_rate, uniform, rtol=1e-9)


def test_prior_rate_order_by_hand():
    """The chain with a trap at s1. Unrewarded trap: the optimal gap puts s1 first
    (stepping in costs it everything, test_gap_order_by_hand), but under the uniform
    prior the random walk's value at s1 is small anyway, so the prior's rates still
    follow the distance (checked against the dense rate): a run that follows the
    distance has kendall_tau_prior 1, kendall_tau_gap 0.4. A trap costing 1 a step:
    the random walk falls into it from everywhere, the more often the nearer it
    starts, so the prior's rates fall away from the trap (s1 largest: 'left' there is
    worth ``-lam / (1 - lam)``; then s2, s3, the goal, s0), nearly against the
    distance: of the run's 10 pairs, the 6 among s1 ... s4 are discordant and the 4
    with s0 concordant, kendall_tau_prior (4 - 6) / 10, while the optimal gap still
    moves only s1 (0.4)."""
    time = np.arange(0.0, 8.0, 0.05)
    for trap_reward, prior_order, tau in ((0.0, [4, 3, 2, 1, 0], 1.0), (-1.0, [4, 0, 1, 2, 3], -0.2)):
        mdp = chain_mdp(trap_at=1, trap_reward=trap_reward)
        ds = measures_dataset(distance_ordered_run(mdp, time, lambda d: 1.0 + d), mdp)
        np.testing.assert_allclose(ds.prior_rate, dense_rate(mdp, mdp.uniform_policy(), LAM), rtol=1e-9)
        assert float(ds.prior_rate[5]) == 0.0  # the trap: both actions alike, the prior does not move it
        np.testing.assert_array_equal(gap_order(ds.prior_rate.values, 1e-9)[:5], prior_order)
        assert float(ds.kendall_tau_gap) == pytest.approx(0.4)
        assert float(ds.kendall_tau_prior) == pytest.approx(tau)
        attrs = ds.kendall_tau_prior.attrs
        assert attrs["reference"] == "prior_rate" and attrs["n_compared"] == 5
        assert attrs["resolution"] == ds.kendall_tau_dp.attrs["resolution"]


def test_measures_need_the_initial_policy():
    mdp = two_state_mdp()
    traj = trajectory_for(mdp, np.array([0.5, 0.6, 0.7]), np.array([0.0, 1.0, 2.0])).isel(iteration=slice(1, None))
    with pytest.raises(HimoError, match="first stored iteration is 1"):
        measures_dataset(traj, mdp)


def test_measures_need_the_foresight():
    mdp = two_state_mdp()
    traj = trajectory_for(mdp, np.array([0.5, 0.6]), np.array([0.0, 1.0]))
    del traj.attrs["foresight"]
    with pytest.raises(HimoError, match="foresight"):
        measures_dataset(traj, mdp)
