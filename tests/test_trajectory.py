"""The trajectory dataset: layout, counter snapshots, netCDF round trip, determinism."""

from __future__ import annotations

import netCDF4
import numpy as np
import pytest
import xarray as xr

import himo
from himo.io import atomic_output, write_netcdf
from himo.solver.counters import counter_correlations
from himo.solver.evaluation import evaluate
from himo.solver.policy import dependent_pairs
from himo.solver.settings import SolverSettings, setting_schemas
from himo.solver.steps import RATIO_LIMIT
from himo.trajectory import SETTING_ATTRIBUTES, action_index_dtype, dependent_action_labels


@pytest.fixture(scope="module")
def random4(random_mdp):
    return random_mdp(seed=1, action_counts=(3, 1, 2, 4))


@pytest.fixture(scope="module", params=["last", "argmax"])
def run(request, random4):
    ds = himo.solve(random4, lam=0.85, method="newton", step=0.5, max_iter=25, dependent=request.param,
                    snapshots_between=2, provenance={"env_key": "random4"})
    return random4, ds, request.param


def pairs_of(mdp, ds_policy):
    """``(..., state, action)`` back to the ``(..., n_pairs)`` vector."""
    return np.asarray(ds_policy)[..., mdp.pair_state, mdp.pair_action]


def test_layout(run):
    mdp, ds, _ = run
    n = ds.sizes["iteration"]
    np.testing.assert_array_equal(ds.iteration.values, np.arange(n))
    assert ds.attrs["n_iterations"] == n - 1
    assert ds.step_size.values[0] == 0.0 and ds.time.values[0] == 0.0
    np.testing.assert_allclose(ds.time.values, np.cumsum(ds.step_size.values), rtol=1e-15)
    assert ds.policy.dims == ("iteration", "state", "action")
    assert list(ds.state.values) == list(mdp.state_labels) and list(ds.action.values) == list(mdp.action_labels)
    policy = ds.policy.values
    assert np.all(policy[:, ~mdp.available()] == 0.0)
    assert np.all(policy[:, mdp.available()] > 0.0)
    np.testing.assert_allclose(policy.sum(axis=-1), 1.0, atol=1e-14)
    np.testing.assert_array_equal(ds.available.values, mdp.available())
    np.testing.assert_allclose(pairs_of(mdp, policy[0]), mdp.uniform_policy())
    # objective and occupancy agree with the counters of the stored policies
    for it in (0, n - 1):
        C, counts = counter_correlations(mdp, pairs_of(mdp, policy[it]), 0.85)
        assert float(ds.objective[it]) == pytest.approx(counts @ mdp.R, rel=1e-12)
        np.testing.assert_allclose(np.bincount(mdp.pair_state, weights=counts), ds.occupancy.values[it], rtol=1e-12)
    speeds = [np.abs(pairs_of(mdp, p) * evaluate(mdp, pairs_of(mdp, p), 0.85).advantage).max() for p in policy]
    np.testing.assert_allclose(ds.flow_speed.values, speeds, rtol=1e-12)


def test_attributes(run):
    mdp, ds, rule = run
    attrs = ds.attrs
    for key in ("himo_version", "numpy_version", "scipy_version", "xarray_version", "netCDF4_version", "python_version"):
        assert isinstance(attrs[key], str) and attrs[key]
    assert attrs["foresight"] == 0.85 and attrs["method"] == "newton" and attrs["step"] == 0.5
    assert attrs["max_iter"] == 25 and attrs["e_form"] == "exact" and attrs["storage_budget"] == 256
    assert attrs["n_stored"] == ds.sizes["iteration"] == attrs["n_iterations"] + 1 and attrs["thinning_passes"] == 0
    assert attrs["stored_iterations"] == f"all {attrs['n_stored']} iterations are stored"
    assert attrs["dependent_rule"] == rule
    # every solver setting is recorded, under its own name or the one SETTING_ATTRIBUTES gives
    settings = SolverSettings(lam=0.85, method="newton", step=0.5, max_iter=25, dependent=rule)
    for name in setting_schemas():
        assert attrs[SETTING_ATTRIBUTES.get(name, name)] == getattr(settings, name), name
    assert attrs["environment"] == "random" and attrs["start_state"] == "s0"
    assert attrs["env_key"] == "random4"
    assert attrs["converged"] == int(attrs["stop_reason"] == "converged")
    assert attrs["optimal_objective"] == pytest.approx(float(ds.optimal_value.sel(state="s0")))
    for value in attrs.values():
        assert isinstance(value, (str, int, float)), "netCDF attributes only"


def test_stop_reason_is_what_the_last_iteration_shows(run):
    """25 steps of 0.5 do not converge here: with ``argmax`` the run uses them all;
    with the fixed ``last`` rule a dependent probability falls until Eq. 19 has no
    digits left (the documented finding), which the last stored policy must show."""
    mdp, ds, rule = run
    last_policy = pairs_of(mdp, ds.policy.isel(iteration=-1).values)
    assert float(ds.flow_speed[-1]) >= ds.attrs["tol"]
    if rule == "argmax":
        assert ds.attrs["stop_reason"] == "max_iter"
        assert ds.attrs["n_iterations"] == 25
        assert ds.attrs["stop_note"].startswith("stopped at iteration 25: an action still improves its state by ")
        return
    assert ds.attrs["stop_reason"] == "ill_conditioned"
    n = ds.attrs["n_iterations"]
    assert n < 25 and ds.attrs["stop_note"].startswith(f"stopped at iteration {n}: max r_ij = ")
    dependent = dependent_pairs(mdp, "last")
    free = np.setdiff1d(np.arange(mdp.n_pairs), dependent)
    ratio = last_policy[free] / last_policy[dependent[mdp.pair_state[free]]]
    assert ratio.max() > RATIO_LIMIT
    before = pairs_of(mdp, ds.policy.isel(iteration=-2).values)
    assert (before[free] / before[dependent[mdp.pair_state[free]]]).max() <= RATIO_LIMIT


def test_counter_snapshots(run):
    mdp, ds, _ = run
    n = ds.sizes["iteration"]
    snapshots = ds.snapshot.values
    assert snapshots[0] == 0 and snapshots[-1] == n - 1 and len(snapshots) == 4  # first, 2 between, last
    assert np.all(np.diff(snapshots) > 0)
    assert ds.C.dims == ("snapshot", "pair", "pair2") and ds.C.shape == (4, mdp.n_pairs, mdp.n_pairs)
    assert ds.I.dims == ("snapshot", "free", "free2") and ds.I.shape == (4, mdp.n_free, mdp.n_free)
    assert list(ds.pair.values) == list(ds.pair2.values)
    assert ds.pair.values[0] == f"s0|{mdp.action_labels[mdp.pair_action[0]]}"
    np.testing.assert_array_equal(ds.pair_state.values, [mdp.state_labels[s] for s in mdp.pair_state])
    for position, it in enumerate(snapshots):
        policy = pairs_of(mdp, ds.policy.sel(iteration=it).values)
        C, counts = counter_correlations(mdp, policy, 0.85)
        np.testing.assert_array_equal(ds.C.values[position], C)
        np.testing.assert_array_equal(ds.mean_counts.values[position], counts)
        # I is C projected (Eq. 19), over the free pairs of that snapshot's dependent actions
        if ds.attrs["dependent_rule"] == "argmax":
            labels = dependent_action_labels(ds).sel(iteration=it).values
        else:
            labels = dependent_action_labels(ds).values
        dependent = np.array([mdp.pair_index(s, str(a)) for s, a in enumerate(labels)])
        free = np.setdiff1d(np.arange(mdp.n_pairs), dependent)
        w = dependent[mdp.pair_state[free]]
        r = policy[free] / policy[w]
        expected = (C[np.ix_(free, free)] - r[None, :] * C[np.ix_(free, w)] - r[:, None] * C[np.ix_(w, free)]
                    + r[:, None] * r[None, :] * C[np.ix_(w, w)])
        np.testing.assert_allclose(ds.I.values[position], expected, rtol=1e-10, atol=1e-12 * np.abs(C).max())
    last_labels = labels
    expected_free = [f"{mdp.state_labels[mdp.pair_state[x]]}|{mdp.action_labels[mdp.pair_action[x]]}" for x in free]
    assert list(ds.free.values) == expected_free, last_labels


def test_argmax_dependent_is_each_iterations_most_probable_action(run):
    mdp, ds, _ = run
    assert ds.dependent_action.dtype == np.int8 and ds.dependent_action.attrs["index_of"] == "action"
    labels = dependent_action_labels(ds)
    assert labels.dims == ds.dependent_action.dims
    if ds.attrs["dependent_rule"] != "argmax":
        assert ds.dependent_action.dims == ("state",)
        np.testing.assert_array_equal(ds.dependent_action.values, mdp.pair_action[dependent_pairs(mdp, "last")])
        np.testing.assert_array_equal(
            labels.values, [mdp.action_labels[a] for a in mdp.pair_action[dependent_pairs(mdp, "last")]]
        )
        return
    assert ds.dependent_action.dims == ("iteration", "state")
    for it in range(ds.sizes["iteration"]):
        policy = pairs_of(mdp, ds.policy.isel(iteration=it).values)
        expected = mdp.pair_action[dependent_pairs(mdp, "argmax", policy)]
        np.testing.assert_array_equal(ds.dependent_action.values[it], expected)
        assert list(labels.values[it]) == [mdp.action_labels[a] for a in expected], it


def test_action_index_dtype_is_the_smallest_that_holds_every_position():
    assert [action_index_dtype(n) for n in (1, 128, 129, 32768, 32769)] == [
        np.int8, np.int8, np.int16, np.int16, np.int32]


def test_netcdf_round_trip_is_identical(run, tmp_path):
    _, ds, _ = run
    path = tmp_path / "trajectory.nc"
    write_netcdf(ds, path)
    with xr.open_dataset(path) as opened:
        loaded = opened.load()
    xr.testing.assert_identical(loaded, ds)
    for name in ds.variables:
        assert loaded[name].dtype == ds[name].dtype, name
    assert [p.name for p in tmp_path.iterdir()] == ["trajectory.nc"]


def test_two_solves_are_identical(random4):
    a = himo.solve(random4, lam=0.85, method="newton", dependent="argmax", step=0.5, max_iter=15)
    b = himo.solve(random4, lam=0.85, method="newton", dependent="argmax", step=0.5, max_iter=15)
    xr.testing.assert_identical(a, b)


def test_two_written_files_have_identical_bytes_compressed_with_the_shuffle(random4, tmp_path):
    for name in ("a.nc", "b.nc"):
        write_netcdf(himo.solve(random4, lam=0.85, max_iter=300, step=0.5, step_rule="fixed"), tmp_path / name)
    assert (tmp_path / "a.nc").read_bytes() == (tmp_path / "b.nc").read_bytes()
    with netCDF4.Dataset(tmp_path / "a.nc") as nc:
        large = [name for name, var in nc.variables.items() if var.size >= 1024]
        assert "policy" in large
        for name in large:
            filters = nc[name].filters()
            assert filters["zlib"] and filters["shuffle"] and filters["complevel"] == 1, name


def test_atomic_output_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "out.nc"
    with pytest.raises(RuntimeError):
        with atomic_output(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
