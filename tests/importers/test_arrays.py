"""Arrays in pymdptoolbox's and QuantEcon's layouts: the right MDP, the right optimum,
and one clear error (key and index) for every malformed array.

Both packages are installed by the set-up (requirements.lock), and the arrays come
from their own functions: pymdptoolbox's examples ``small()``, ``forest()`` and
``rand()`` (``mdptoolbox.example``, dense and sparse), QuantEcon's ``DiscreteDP``
example of its documentation (product form with an unavailable action, and its
``to_sa_pair_form()``) and ``random_discrete_dp`` (both forms, sparse pairs with
some left out). The optimum himo finds is compared with the packages' own solvers:
pymdptoolbox's ``PolicyIteration`` (values to ``1e-10`` relative, the same policy
and the same number of evaluations as :func:`himo.solver.value_iteration.policy_iteration`)
and ``ValueIteration`` (the same policy), QuantEcon's ``DiscreteDP.solve`` (policy
iteration: values to ``1e-10`` relative, the same policy); and a ``himo.solve`` run
with no option but the foresight reaches the packages' optimum to ``1e-8`` relative.
"""

from __future__ import annotations

import re

import mdptoolbox.example
import mdptoolbox.mdp
import numpy as np
import pytest
import scipy.sparse as sp
import xarray as xr
from quantecon.markov import DiscreteDP, random_discrete_dp

import himo
from himo.cli import main
from himo.errors import MDPError
from himo.importers import ArrayLayoutError, from_arrays, load_arrays
from himo.solver import value_iteration
from himo.solver.value_iteration import policy_iteration

#: pymdptoolbox's checks compare its sparse matrices with 0, which scipy warns is slow
pytestmark = pytest.mark.filterwarnings("ignore:Comparing a sparse matrix with 0:scipy.sparse.SparseEfficiencyWarning")

SMALL_P, SMALL_R = mdptoolbox.example.small()
FOREST_P, FOREST_R = mdptoolbox.example.forest()  # S=3, r1=4, r2=2, p=0.1
#: QuantEcon's DiscreteDP example (its documentation's input): state 1 cannot take action 1
QE_EXAMPLE = DiscreteDP(np.array([[5.0, 10.0], [-1.0, -np.inf]]),
                        np.array([[[0.5, 0.5], [0.0, 1.0]], [[0.0, 1.0], [0.5, 0.5]]]), 0.95)
QE_R, QE_Q = QE_EXAMPLE.R, QE_EXAMPLE.Q
_QE_SA = QE_EXAMPLE.to_sa_pair_form(sparse=False)
QE_PAIRS = dict(R=_QE_SA.R, Q=_QE_SA.Q, s_indices=_QE_SA.s_indices, a_indices=_QE_SA.a_indices)
#: How close himo's optimum (value iteration polished by an exact evaluation) is to the packages' policy iteration
VALUE_RTOL = 1e-10
#: ``himo.solve``'s default ``tol``: the relative gap to the optimum it guarantees
SOLVE_RTOL = 1e-8


def greedy_actions(mdp, optimum) -> list[int]:
    return [int(a) for a in mdp.pair_action[optimum.greedy == 1.0]]


@pytest.fixture
def seeded_numpy():
    """``mdptoolbox.example.rand`` draws from numpy's global generator: seed it, then restore it."""
    state = np.random.get_state()
    yield np.random.seed
    np.random.set_state(state)


def pymdptoolbox_examples(seed) -> list[tuple[str, object, object]]:
    """``(name, P, R)`` from ``mdptoolbox.example``, dense and sparse."""
    seed(7)
    rand_dense = mdptoolbox.example.rand(12, 3)  # R per transition, (A, S, S)
    rand_sparse = mdptoolbox.example.rand(15, 4, is_sparse=True)  # lists of sparse matrices
    return [
        ("small", *mdptoolbox.example.small()),
        ("forest", *mdptoolbox.example.forest()),
        ("forest-sparse", *mdptoolbox.example.forest(S=10, is_sparse=True)),
        ("rand", *rand_dense),
        ("rand-sparse", *rand_sparse),
    ]


@pytest.mark.parametrize("index", range(5), ids=["small", "forest", "forest-sparse", "rand", "rand-sparse"])
@pytest.mark.parametrize("discount", [0.9, 0.96])
def test_pymdptoolbox_optimum_is_its_policy_iteration(seeded_numpy, index, discount):
    """Values, policy and evaluations of pymdptoolbox's PolicyIteration; its ValueIteration's policy."""
    name, P, R = pymdptoolbox_examples(seeded_numpy)[index]
    mdp = from_arrays("pymdptoolbox", P=P, R=R)
    n_states = (P[0] if isinstance(P, list) else P[0]).shape[0]
    assert mdp.n_states == n_states and mdp.n_pairs == n_states * len(P)
    reference = mdptoolbox.mdp.PolicyIteration(P, R, discount)
    reference.run()
    optimum = value_iteration(mdp, discount)
    np.testing.assert_allclose(optimum.value, reference.V, rtol=VALUE_RTOL)
    assert greedy_actions(mdp, optimum) == list(reference.policy)
    assert policy_iteration(mdp, discount).iterations == reference.iter
    by_values = mdptoolbox.mdp.ValueIteration(P, R, discount)
    by_values.run()
    assert greedy_actions(mdp, optimum) == list(by_values.policy)


def test_pymdptoolbox_layout_is_read_as_documented():
    """``P[a, s, k]`` and ``R[s, a]`` land on pair ``(s, a)``; R of shape (S,) holds for every
    action, and R of shape (A, S, S) (also a list of matrices) is averaged under ``P``."""
    mdp = from_arrays("pymdptoolbox", P=SMALL_P, R=SMALL_R)
    assert (mdp.n_states, mdp.n_actions, mdp.n_pairs, mdp.start) == (2, 2, 4, 0)
    for s in range(2):
        for a in range(2):
            assert mdp.P[mdp.pair_index(s, a)].toarray().tolist() == [SMALL_P[a, s].tolist()]
            assert mdp.R[mdp.pair_index(s, a)] == SMALL_R[s, a]
    per_state = from_arrays("pymdptoolbox", P=FOREST_P, R=np.array([1.0, 2.0, 3.0]))
    assert [per_state.R[per_state.pair_index(s, a)] for s in range(3) for a in range(2)] == [1, 1, 2, 2, 3, 3]
    R3 = np.arange(18.0).reshape(2, 3, 3)
    for R in (R3, [sp.csr_matrix(block) for block in R3]):
        mdp = from_arrays("pymdptoolbox", P=FOREST_P, R=R)
        for s in range(3):
            for a in range(2):
                assert mdp.R[mdp.pair_index(s, a)] == pytest.approx(FOREST_P[a, s] @ R3[a, s])


def quantecon_examples() -> list[tuple[str, DiscreteDP]]:
    """QuantEcon's documented example in both forms, and ``random_discrete_dp`` in both,
    the pair form sparse with a third of the pairs left out and the product form with
    some actions made unavailable (``-inf``), each state keeping one."""
    rng = np.random.default_rng(11)
    pairs = random_discrete_dp(20, 4, 0.95, k=5, sparse=True, sa_pair=True, random_state=3)
    keep = (rng.random(pairs.num_sa_pairs) < 2 / 3) | (pairs.a_indices == 0)
    subset = DiscreteDP(pairs.R[keep], pairs.Q[keep], pairs.beta, pairs.s_indices[keep], pairs.a_indices[keep])
    product = random_discrete_dp(15, 3, 0.9, random_state=4)
    R = product.R.copy()
    R[rng.random(R.shape) < 0.3] = -np.inf
    R[:, 0] = product.R[:, 0]
    return [
        ("example", QE_EXAMPLE),
        ("example-pairs", QE_EXAMPLE.to_sa_pair_form()),
        ("random-pairs", subset),
        ("random-product", DiscreteDP(R, product.Q, product.beta)),
    ]


def quantecon_arrays(ddp: DiscreteDP) -> dict:
    """The keys of himo's quantecon layout, read off a ``DiscreteDP``."""
    if ddp._sa_pair:
        return dict(R=ddp.R, Q=ddp.Q, s_indices=ddp.s_indices, a_indices=ddp.a_indices)
    return dict(R=ddp.R, Q=ddp.Q)


@pytest.mark.parametrize("index", range(4), ids=["example", "example-pairs", "random-pairs", "random-product"])
def test_quantecon_optimum_is_its_solve(index):
    """Values and policy of ``DiscreteDP.solve`` (policy iteration) at the model's own beta."""
    _, ddp = quantecon_examples()[index]
    mdp = from_arrays("quantecon", **quantecon_arrays(ddp))
    reference = ddp.solve(method="policy_iteration")
    optimum = value_iteration(mdp, ddp.beta)
    np.testing.assert_allclose(optimum.value, reference.v, rtol=VALUE_RTOL)
    assert greedy_actions(mdp, optimum) == reference.sigma.tolist()
    available = np.isfinite(ddp.R) if not ddp._sa_pair else None
    if available is not None:
        assert mdp.actions_per_state.tolist() == available.sum(axis=1).tolist(), "-inf: not available"


def test_quantecon_documented_example():
    """The example's printed solution: sigma = (0, 0), v = (-8.5714..., -20)."""
    reference = QE_EXAMPLE.solve(method="policy_iteration")
    np.testing.assert_allclose(reference.v, [-4.5 / 0.525, -20.0], rtol=1e-12)
    assert reference.sigma.tolist() == [0, 0]


def default_cases(seed) -> list[tuple[str, himo.MDP, float, float]]:
    """``(name, mdp, foresight, the package's optimal value at the start)``."""
    cases = []
    for name, P, R in pymdptoolbox_examples(seed):
        reference = mdptoolbox.mdp.PolicyIteration(P, R, 0.9)
        reference.run()
        cases.append((f"pymdptoolbox-{name}", from_arrays("pymdptoolbox", P=P, R=R), 0.9, reference.V[0]))
    for name, ddp in quantecon_examples():
        reference = ddp.solve(method="policy_iteration")
        cases.append((f"quantecon-{name}", from_arrays("quantecon", **quantecon_arrays(ddp)), ddp.beta, reference.v[0]))
    return cases


@pytest.mark.parametrize("index", range(9), ids=["pymdptoolbox-small", "pymdptoolbox-forest", "pymdptoolbox-forest-sparse",
                                                 "pymdptoolbox-rand", "pymdptoolbox-rand-sparse", "quantecon-example",
                                                 "quantecon-example-pairs", "quantecon-random-pairs",
                                                 "quantecon-random-product"])
def test_default_settings_reach_the_packages_optimum(seeded_numpy, index):
    """``himo.solve`` with no option but the foresight converges to the optimum the package's
    own solver gives, within the default ``tol`` (relative)."""
    _, mdp, lam, best = default_cases(seeded_numpy)[index]
    run = himo.solve(mdp, lam=lam, store_counters=False)
    assert run.attrs["stop_reason"] == "converged", run.attrs["stop_note"]
    assert abs(float(run.objective[-1]) - best) <= SOLVE_RTOL * abs(best)


def test_quantecon_pair_form_is_the_product_form():
    product = from_arrays("quantecon", R=QE_R, Q=QE_Q)
    for Q in (QE_PAIRS["Q"], sp.csr_matrix(QE_PAIRS["Q"])):
        pairs = from_arrays("quantecon", **{**QE_PAIRS, "Q": Q})
        np.testing.assert_array_equal(pairs.P.toarray(), product.P.toarray())
        np.testing.assert_array_equal(pairs.R, product.R)
        np.testing.assert_array_equal(pairs.pair_action, product.pair_action)
    # a pair with R = -inf is left out, as in the product form; pairs may come in any order
    order = [2, 3, 0, 1]
    mdp = from_arrays("quantecon", R=np.append(QE_PAIRS["R"], -np.inf)[order],
                      Q=np.vstack([QE_PAIRS["Q"], [1.0, 0.0]])[order],
                      s_indices=np.append(QE_PAIRS["s_indices"], 1)[order],
                      a_indices=np.append(QE_PAIRS["a_indices"], 1)[order])
    np.testing.assert_array_equal(mdp.P.toarray(), product.P.toarray())
    np.testing.assert_array_equal(mdp.R, product.R)


def test_labels_and_start():
    labels = dict(state_labels=np.array(["young", "mid", "old"]), action_labels=np.array(["wait", "cut"]))
    mdp = from_arrays("pymdptoolbox", P=FOREST_P, R=FOREST_R, start="old", **labels)
    assert mdp.state_labels == ("young", "mid", "old") and mdp.action_labels == ("wait", "cut")
    assert mdp.start == 2
    spread = from_arrays("pymdptoolbox", P=FOREST_P, R=FOREST_R, start_distribution=np.array([0.5, 0.5, 0.0]))
    assert spread.start_states.tolist() == [0, 1]
    reference = mdptoolbox.mdp.PolicyIteration(FOREST_P, FOREST_R, 0.9)
    reference.run()
    assert value_iteration(spread, 0.9).objective == pytest.approx((reference.V[0] + reference.V[1]) / 2, rel=1e-12)


# (layout, arrays, error message): each names the key and, where there is one, the index
BAD_ARRAYS = [
    pytest.param("pymdptoolbox", dict(P=FOREST_P[:, :2], R=FOREST_R),
                 r"key 'P' must have shape \(A, S, S\), got \(2, 2, 3\)", id="P-not-square"),
    pytest.param("pymdptoolbox", dict(P=FOREST_P, R=FOREST_R.T),
                 r"key 'R' has shape \(2, 3\); .* \(S, A\) = \(3, 2\)", id="R-shape"),
    pytest.param("pymdptoolbox", dict(P=FOREST_P * np.array([1, 1, 0.9])[None, :, None], R=FOREST_R),
                 r"key 'P', index \[0, 2, :\]: probabilities sum to 0\.9, not 1", id="P-row-sum"),
    pytest.param("pymdptoolbox", dict(P=np.where(np.arange(3) == 1, np.nan, FOREST_P), R=FOREST_R),
                 r"key 'P', index \[0, 0, 1\]: value is nan", id="P-NaN"),
    pytest.param("pymdptoolbox", dict(P=SMALL_P + np.array([[[0, 0], [0, 0]], [[-0.2, 0.2], [0, 0]]]), R=SMALL_R),
                 r"key 'P', index \[1, 0, 0\]: negative probability -0\.2", id="P-negative"),
    pytest.param("pymdptoolbox", dict(P=FOREST_P, R=np.where(np.arange(2) == 1, np.nan, FOREST_R)),
                 r"key 'R', index \[0, 1\]: value is nan", id="R-NaN"),
    pytest.param("pymdptoolbox", dict(P=FOREST_P, R=np.full((2, 3, 3), np.inf)),
                 r"key 'R', index \[0, 0, 0\]: value is inf", id="R-transition-inf"),
    pytest.param("pymdptoolbox", dict(P=FOREST_P), r"missing key 'R'", id="missing-R"),
    pytest.param("pymdptoolbox", dict(P=FOREST_P, R=FOREST_R, discount=np.array(0.9)),
                 r"unknown key 'discount' \(the pymdptoolbox layout takes P, R", id="unknown-key"),
    pytest.param("pymdptoolbox", dict(P=np.array([["a"]]), R=FOREST_R), r"key 'P' must hold numbers", id="P-strings"),
    pytest.param("quantecon", dict(R=np.array([[1.0, -np.inf], [-np.inf, -np.inf]]), Q=QE_Q),
                 r"key 'R', index \[1, :\]: state 1 has no available action", id="state-without-action"),
    pytest.param("quantecon", dict(R=QE_R, Q=QE_Q[:, :, :1]),
                 r"key 'Q' must have shape \(S, A, S\) = \(2, 2, 2\)", id="Q-shape"),
    pytest.param("quantecon", dict(R=np.array([[5.0, np.nan], [-1.0, -np.inf]]), Q=QE_Q),
                 r"key 'R', index \[0, 1\]: reward is nan", id="R-NaN-quantecon"),
    pytest.param("quantecon", dict(R=QE_R, Q=np.where(QE_Q == 0.5, 0.4, QE_Q)),
                 r"key 'Q', index \[0, 0, :\]: probabilities sum to 0\.8, not 1", id="Q-row-sum"),
    pytest.param("quantecon", dict(QE_PAIRS, a_indices=np.array([0, 0, 0])),
                 r"keys 's_indices' and 'a_indices', index 1: the pair \(s=0, a=0\) is given again \(first at index 0\)",
                 id="duplicate-pair"),
    pytest.param("quantecon", dict(QE_PAIRS, s_indices=np.array([0, 0, 2])),
                 r"key 's_indices', index 2: 2 is outside 0\.\.1", id="s-index-range"),
    pytest.param("quantecon", dict(QE_PAIRS, s_indices=np.array([0, 0, 0]), a_indices=np.array([0, 1, 2])),
                 r"key 's_indices': state 1 has no available action", id="pair-form-state-without-action"),
    pytest.param("quantecon", dict(QE_PAIRS, s_indices=np.array([0.0, 0.0, 1.0])),
                 r"key 's_indices' must hold integers", id="float-indices"),
    pytest.param("quantecon", {k: v for k, v in QE_PAIRS.items() if k != "a_indices"},
                 r"key 's_indices' needs its partner", id="lone-s_indices"),
    pytest.param("quantecon", dict(QE_PAIRS, Q=QE_PAIRS["Q"][:2]),
                 r"key 'Q' must have shape \(L, S\) with L = 3", id="pair-form-Q-rows"),
    pytest.param("quantecon", dict(QE_PAIRS, Q=np.where(QE_PAIRS["Q"] == 1.0, np.nan, QE_PAIRS["Q"])),
                 r"key 'Q', index \[1, 1\]: value is nan", id="pair-form-Q-NaN"),
    pytest.param("pymdptoolbox", dict(P=FOREST_P, R=FOREST_R, start_distribution=np.array([0.5, 0.6, -0.1])),
                 r"start_distribution of state '2' is negative", id="p0-negative"),
    pytest.param("pymdptoolbox", dict(P=FOREST_P, R=FOREST_R, start_distribution=np.array([0.5, 0.4, 0.0])),
                 r"start_distribution sums to 0\.9, not 1", id="p0-sum"),
    pytest.param("pymdptoolbox", dict(P=FOREST_P, R=FOREST_R, state_labels=np.array(["a", "b"])),
                 r"key 'state_labels' must have one label per state \(3 states\)", id="labels"),
]


def write_npz(path, arrays: dict) -> None:
    np.savez(path, **arrays)


@pytest.mark.parametrize("layout, arrays, match", BAD_ARRAYS)
def test_bad_arrays_are_refused_in_python(layout, arrays, match):
    with pytest.raises(MDPError, match=match):  # ArrayLayoutError, or the MDP's own rule for p0
        from_arrays(layout, **arrays)


def test_bad_matrix_lists_are_refused_in_python():
    """pymdptoolbox's list form exists in Python only (an .npz holds no lists of matrices)."""
    with pytest.raises(ArrayLayoutError, match=r"key 'P', index \[1\]: must be a square S x S matrix like \[0\]"):
        from_arrays("pymdptoolbox", P=[sp.csr_matrix(SMALL_P[0]), sp.csr_matrix([[1.0, 0.0, 0.0]])], R=SMALL_R)
    with pytest.raises(ArrayLayoutError, match=r"key 'P\[0\]', index \[1, 0\]: value is nan"):
        from_arrays("pymdptoolbox", P=[sp.csr_matrix([[1.0, 0.0], [np.nan, 1.0]]), SMALL_P[1]], R=SMALL_R)
    with pytest.raises(ArrayLayoutError, match=r"key 'R' must hold 2 matrices 2 x 2, as P does"):
        from_arrays("pymdptoolbox", P=list(SMALL_P), R=[SMALL_P[0]])
    with pytest.raises(ArrayLayoutError, match=r"unknown array layout 'mdptoolbox'"):
        from_arrays("mdptoolbox", P=SMALL_P, R=SMALL_R)


def run_import(tmp_path, capsys, argv) -> str:
    """Run ``himo import`` expecting a refusal: exit 2, one line on stderr, no output file."""
    before = set(tmp_path.iterdir())
    assert main(["import", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("himo: error: ") and err.count("\n") == 1, err
    assert set(tmp_path.iterdir()) == before, "no output, whole or partial"
    return err


@pytest.mark.parametrize("layout, arrays, match", BAD_ARRAYS)
def test_bad_arrays_are_refused_by_the_command(tmp_path, capsys, layout, arrays, match):
    """The same errors from ``himo import``, after the file's name."""
    path = tmp_path / "bad.npz"
    write_npz(path, arrays)
    err = run_import(tmp_path, capsys, [str(path), str(tmp_path / "out.nc"), "--layout", layout])
    assert err.startswith(f"himo: error: {path}: ") and re.search(match, err), err


@pytest.mark.parametrize(
    "arrays, start, match",
    [
        pytest.param(dict(start_distribution=np.ones(3) / 3), "1", r"both start and the key 'start_distribution'",
                     id="two-starts"),
        pytest.param({}, "old", r"--start 'old' is neither a state label nor a state index", id="start-unknown"),
        pytest.param({}, "7", r"start index 7 is outside 0\.\.2", id="start-range"),
    ],
)
def test_bad_start_is_refused_by_the_command(tmp_path, capsys, arrays, start, match):
    path = tmp_path / "forest.npz"
    write_npz(path, dict(P=FOREST_P, R=FOREST_R, **arrays))
    err = run_import(tmp_path, capsys, [str(path), str(tmp_path / "out.nc"), "--layout", "pymdptoolbox",
                                        "--start", start])
    assert err.startswith(f"himo: error: {path}: ") and re.search(match, err), err


def test_import_command_writes_the_mdp(tmp_path):
    write_npz(tmp_path / "forest.npz", dict(P=FOREST_P, R=FOREST_R, state_labels=np.array(["young", "mid", "old"])))
    assert main(["import", str(tmp_path / "forest.npz"), str(tmp_path / "forest.nc"),
                 "--layout", "pymdptoolbox", "--start", "mid"]) == 0
    mdp = himo.load_mdp(tmp_path / "forest.nc")
    assert mdp.name == "forest" and mdp.state_labels[mdp.start] == "mid"
    np.testing.assert_array_equal(mdp.P.toarray(), from_arrays("pymdptoolbox", P=FOREST_P, R=FOREST_R).P.toarray())
    with xr.open_dataset(tmp_path / "forest.nc") as ds:
        assert ds.attrs["env_array_layout"] == "pymdptoolbox"
    # --start by index; a start distribution from the file
    write_npz(tmp_path / "qe.npz", dict(QE_PAIRS, start_distribution=np.array([0.25, 0.75])))
    assert main(["import", str(tmp_path / "qe.npz"), str(tmp_path / "qe.nc"), "--layout", "quantecon"]) == 0
    assert himo.load_mdp(tmp_path / "qe.nc").start_distribution.tolist() == [0.25, 0.75]
    assert load_arrays(tmp_path / "forest.npz", "pymdptoolbox", start="2").start == 2


@pytest.mark.parametrize(
    "source, argv, match",
    [
        pytest.param("qe.nc", ["--layout", "pymdptoolbox"], r"--layout is for a \.npz file of arrays, not for an MDP file",
                     id="layout-on-netcdf"),
        pytest.param("qe.npz", [], r"qe\.npz: arrays need --layout \(pymdptoolbox or quantecon\)",
                     id="npz-without-layout"),
        pytest.param("qe.npz", ["--layout", "quantecon", "--param", "x=1"],
                     r"--param is for a gymnasium:ENV_ID source, not for a \.npz file of arrays", id="param-on-npz"),
    ],
)
def test_import_options_belong_to_their_source(tmp_path, capsys, source, argv, match):
    write_npz(tmp_path / "qe.npz", dict(R=QE_R, Q=QE_Q))
    himo.save_mdp(from_arrays("quantecon", R=QE_R, Q=QE_Q), tmp_path / "qe.nc")
    err = run_import(tmp_path, capsys, [str(tmp_path / source), str(tmp_path / "out.nc"), *argv])
    assert re.search(match, err), err


@pytest.mark.parametrize(
    "write, match",
    [
        pytest.param(lambda p: p.write_text("not a zip"), r"not a readable \.npz file", id="not-npz"),
        pytest.param(lambda p: np.savez(p, P=np.array([None, 1], dtype=object), R=FOREST_R),
                     r"key 'P' holds Python objects", id="pickled-objects"),
        pytest.param(lambda p: None, r"no such file", id="missing"),
    ],
)
def test_unreadable_npz_files(tmp_path, write, match):
    path = tmp_path / "x.npz"
    write(path)
    with pytest.raises(himo.HimoError, match=match) as err:
        load_arrays(path, "pymdptoolbox")
    assert str(err.value).startswith(f"{path}: ")
