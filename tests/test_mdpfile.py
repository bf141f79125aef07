"""MDP files: round trips in both forms, a file a user writes with xarray, bad files."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from himo import load_mdp, make_env, save_mdp
from himo.errors import MDPFileError
from himo.mdpfile import SPARSE_FORMAT, mdp_to_dataset


def assert_same_mdp(loaded, original):
    assert loaded.name == original.name
    assert loaded.state_labels == original.state_labels
    assert loaded.action_labels == original.action_labels
    np.testing.assert_array_equal(loaded.start_distribution, original.start_distribution)
    np.testing.assert_array_equal(loaded.pair_state, original.pair_state)
    np.testing.assert_array_equal(loaded.pair_action, original.pair_action)
    np.testing.assert_array_equal(loaded.P.toarray(), original.P.toarray())
    np.testing.assert_array_equal(loaded.R, original.R)
    for field in ("layout", "cluster", "walls", "cells"):
        a, b = getattr(loaded, field), getattr(original, field)
        assert (a is None) == (b is None), field
        if a is not None:
            np.testing.assert_array_equal(a, b, err_msg=field)
    assert loaded.roles.keys() == original.roles.keys()
    for role in original.roles:
        np.testing.assert_array_equal(loaded.roles[role], original.roles[role])
    assert dict(loaded.attrs) == dict(original.attrs)


@pytest.mark.parametrize("form", ["dense", "sparse", "auto"])
@pytest.mark.parametrize("env", ["hanoi", "wormhole"])
def test_round_trip(tmp_path, env, form):
    mdp = make_env(env)
    path = tmp_path / f"{env}.nc"
    save_mdp(mdp, path, form=form)
    assert_same_mdp(load_mdp(path), mdp)
    with xr.open_dataset(path) as ds:
        assert (ds.attrs.get("himo_format") == SPARSE_FORMAT) == (form == "sparse")
        assert ds.attrs["start_state"] == mdp.state_labels[mdp.start]
        assert "numpy_version" in ds.attrs and "himo_version" in ds.attrs
    assert [p.name for p in tmp_path.iterdir()] == [f"{env}.nc"], "no temporary file is left"


def test_round_trip_of_a_random_mdp(tmp_path, random_mdp):
    mdp = random_mdp(seed=3)
    for form in ("dense", "sparse"):
        save_mdp(mdp, tmp_path / f"{form}.nc", form=form)
        assert_same_mdp(load_mdp(tmp_path / f"{form}.nc"), mdp)


@pytest.mark.parametrize("form", ["dense", "sparse"])
def test_round_trip_of_a_start_distribution(tmp_path, random_mdp, form):
    """Several start states: the variable ``start_distribution(state)``, no ``start_state``."""
    mdp = random_mdp(seed=3, start_distribution=[0.2, 0.0, 0.7, 0.1])
    save_mdp(mdp, tmp_path / "p0.nc", form=form)
    assert_same_mdp(load_mdp(tmp_path / "p0.nc"), mdp)
    with xr.open_dataset(tmp_path / "p0.nc") as ds:
        assert "start_state" not in ds.attrs
        assert ds.start_distribution.values.tolist() == [0.2, 0.0, 0.7, 0.1]


def test_one_hot_start_distribution_in_a_file_reads_as_the_start_state(tmp_path):
    ds = _drop_attr(user_dataset(False, True), "start_state")
    ds["start_distribution"] = ("state", [0.0, 1.0, 0.0])
    ds.to_netcdf(tmp_path / "user.nc")
    mdp = load_mdp(tmp_path / "user.nc")
    assert mdp.state_labels[mdp.start] == "mid"
    save_mdp(mdp, tmp_path / "back.nc")
    with xr.open_dataset(tmp_path / "back.nc") as back:
        assert back.attrs["start_state"] == "mid" and "start_distribution" not in back


def test_unknown_form(random_mdp):
    with pytest.raises(MDPFileError, match="form must be"):
        mdp_to_dataset(random_mdp(seed=0), form="csv")


def user_dataset(reward_per_transition: bool, with_available: bool) -> xr.Dataset:
    """A dense MDP file as a user would write it with xarray alone."""
    states, actions = ["left", "mid", "right"], ["go", "stay", "jump"]
    P = np.zeros((3, 3, 3))
    P[:, 0, :] = [[0.2, 0.8, 0.0], [0.0, 0.2, 0.8], [0.0, 0.0, 1.0]]  # go: rightwards
    P[:, 1, :] = np.eye(3)  # stay
    P[:, 2, :] = [[0.0, 0.0, 1.0], [np.nan, np.nan, np.nan], [1.0, 0.0, 0.0]]  # jump, not in "mid"
    if not with_available:
        P[1, 2, :] = [0.0, 1.0, 0.0]
    data = {"P": (("state", "action", "next_state"), P)}
    if reward_per_transition:
        R = np.zeros((3, 3, 3))
        R[:, :, 2] = 1.0  # arriving at "right" earns 1
        R[0, 2, 2] = 3.0
        data["R"] = (("state", "action", "next_state"), R)
    else:
        data["R"] = (("state", "action"), np.array([[0.0, 0.0, 3.0], [0.8, 0.0, 0.0], [1.0, 1.0, 0.0]]))
    if with_available:
        data["available"] = (("state", "action"), np.array([[1, 1, 1], [1, 1, 0], [1, 1, 1]]))
    return xr.Dataset(data, coords={"state": states, "action": actions, "next_state": states},
                      attrs={"start_state": "left"})


@pytest.mark.parametrize("reward_per_transition", [False, True], ids=["R-pair", "R-transition"])
@pytest.mark.parametrize("with_available", [True, False], ids=["available-mask", "all-available"])
def test_plain_xarray_file_loads(tmp_path, reward_per_transition, with_available):
    path = tmp_path / "user.nc"
    user_dataset(reward_per_transition, with_available).to_netcdf(path)
    mdp = load_mdp(path)
    assert mdp.name == "user"  # from the file name
    assert mdp.state_labels == ("left", "mid", "right") and mdp.start == 0
    expected_pairs = 8 if with_available else 9
    assert mdp.n_pairs == expected_pairs
    assert mdp.available()[1].tolist() == [True, True, not with_available]
    np.testing.assert_allclose(mdp.P[mdp.pair_index("mid", "go")].toarray(), [[0.0, 0.2, 0.8]])
    expected_R = {("left", "go"): 0.0, ("left", "jump"): 3.0, ("mid", "go"): 0.8, ("right", "stay"): 1.0,
                  ("right", "go"): 1.0, ("mid", "stay"): 0.0}
    if reward_per_transition:
        expected_R[("left", "jump")] = 3.0  # p = 1 onto "right", reward 3
    for (s, a), r in expected_R.items():
        assert mdp.R[mdp.pair_index(s, a)] == pytest.approx(r), (s, a)


def _drop_attr(ds, name):
    ds = ds.copy()
    del ds.attrs[name]
    return ds


def write_broken(path, mutate):
    ds = user_dataset(False, True)
    ds = mutate(ds)
    ds.to_netcdf(path)


@pytest.mark.parametrize(
    "mutate, match",
    [
        pytest.param(lambda ds: ds.drop_vars("P"), r"missing variable P", id="missing-P"),
        pytest.param(lambda ds: ds.drop_vars("R"), r"missing variable R", id="missing-R"),
        pytest.param(lambda ds: _drop_attr(ds, "start_state"),
                     r"missing global attribute 'start_state'", id="missing-start_state"),
        pytest.param(lambda ds: ds.assign_attrs(start_state="nowhere"), r"start state 'nowhere' is not a state label",
                     id="start_state-not-a-label"),
        pytest.param(lambda ds: ds.assign(start_distribution=("state", [0.5, 0.5, 0.0])),
                     r"both the attribute 'start_state' and the variable 'start_distribution'", id="two-starts"),
        pytest.param(lambda ds: _drop_attr(ds, "start_state").assign(start_distribution=("state", [0.5, 0.6, 0.0])),
                     r"start_distribution sums to 1\.1, not 1", id="start_distribution-sum"),
        pytest.param(lambda ds: _drop_attr(ds, "start_state").assign(start_distribution=("state", [1.5, -0.5, 0.0])),
                     r"start_distribution of state 'mid' is negative", id="start_distribution-negative"),
        pytest.param(lambda ds: ds.assign(P=ds.P * 0.9), r"sum to 0\.9, not 1", id="P-not-summing-to-1"),
        pytest.param(lambda ds: ds.assign(available=ds.available * 0 + 1), r"NaN in the available pair \(s=mid, a=jump\)",
                     id="NaN-in-available-pair"),
        pytest.param(lambda ds: ds.assign_coords(next_state=["a", "b", "c"]), r"coordinate 'next_state' must list",
                     id="next_state-labels"),
        pytest.param(lambda ds: ds.assign(R=(("state", "next_state"), np.zeros((3, 3)))),
                     r"variable R must have dimensions \('state', 'action'\)", id="R-dims"),
    ],
)
def test_bad_files_name_the_file(tmp_path, mutate, match):
    path = tmp_path / "broken.nc"
    write_broken(path, mutate)
    with pytest.raises(MDPFileError, match=match) as err:
        load_mdp(path)
    assert str(err.value).startswith(f"{path}: ")


def test_not_netcdf(tmp_path):
    path = tmp_path / "notes.nc"
    path.write_text("this is not a netCDF file\n")
    with pytest.raises(MDPFileError, match="not a readable netCDF MDP file") as err:
        load_mdp(path)
    assert str(err.value).startswith(f"{path}: ")


def test_missing_file(tmp_path):
    path = tmp_path / "absent.nc"
    with pytest.raises(MDPFileError, match="no such MDP file") as err:
        load_mdp(path)
    assert str(path) in str(err.value)


def test_sparse_file_with_bad_index(tmp_path):
    mdp = make_env("hanoi", n_disks=2)
    ds = mdp_to_dataset(mdp, form="sparse")
    ds["transition_next_state"] = ds.transition_next_state + 100
    path = tmp_path / "bad-sparse.nc"
    ds.to_netcdf(path)
    with pytest.raises(MDPFileError, match="transition_next_state holds an index outside") as err:
        load_mdp(path)
    assert str(path) in str(err.value)
