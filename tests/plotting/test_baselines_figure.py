"""The baselines figure and what it draws: the runs compared (himo.verdicts.baselines),
the panels (himo.plotting.baselines), the ``himo baselines`` command, image regression.

The runs are the synthetic measures of synthetic_baselines.py. Regenerate the image
baseline on purpose with ``make baselines`` and look at it before committing.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from test_figures import MPL_COMPARE, render

from himo.verdicts import baselines as compared
from himo.measures.dataset import measures_dataset
from himo.cli import main
from himo.plotting import baselines as figure
from himo.solver.steps import METHODS
from synthetic_baselines import PATHS, baseline_runs, distance_order, run


def by_key(rows):
    return {row["env_key"]: row for row in rows}


# ------------------------------------------------------------- the runs compared
def test_method_families_are_solver_methods():
    for methods in compared.METHOD_FAMILIES.values():
        assert set(methods) <= set(METHODS)


def test_runs_are_chosen_by_their_attributes_not_their_keys():
    """Per environment and family, one run per foresight; another reward convention,
    another map and HIMO at another step are left out, though their keys sort first;
    the first-order runs' keys say nothing."""
    runs = baseline_runs()
    chosen = {family: {lam: ds.attrs["env_key"] for lam, ds in compared.comparison_runs(runs, "hanoi", family).items()}
              for family in compared.METHOD_FAMILIES}
    assert chosen == {
        "HIMO": {0.8: "hanoi-lam0.8", 0.9: "hanoi", 0.95: "hanoi-lam0.95"},
        "gradient": {0.9: "fo-a", 0.95: "fo-b"},
        "softmax": {0.9: "fo-c", 0.95: "fo-d"},
        "kakade": {0.9: "np-a"},
    }
    assert compared.comparison_runs(runs, "fourrooms", "softmax") == {}
    assert compared.comparison_runs(runs, "wormhole", "HIMO") == {}
    assert compared.paper_environments(runs) == ["hanoi", "fourrooms"]  # the paper's order


def test_the_main_run_wins_a_tie_of_foresight():
    runs = baseline_runs()
    twin = run("hanoi", "a-twin", "natural", 0.9, distance_order("hanoi")[::-1].copy())
    assert compared.comparison_runs([twin] + runs, "hanoi", "HIMO")[0.9].attrs["env_key"] == "hanoi"


def test_comparison_table():
    rows = compared.comparison_table(baseline_runs())
    assert [(r["paper_env"], r["family"], r["foresight"]) for r in rows][:4] == [
        ("hanoi", "HIMO", 0.8), ("hanoi", "HIMO", 0.9), ("hanoi", "HIMO", 0.95), ("hanoi", "gradient", 0.9)]
    rows = by_key(rows)
    assert rows["hanoi-lam0.8"]["kendall_tau_dp"] == pytest.approx(1.0)
    # the gap order puts the bottleneck (distance 3) first: 3 of 15 pairs discordant
    assert rows["hanoi-lam0.8"]["kendall_tau_gap"] == pytest.approx(12 / 15 - 3 / 15)
    # the prior's order puts the start's successor (distance 4) first: 4 of 15 pairs discordant
    assert rows["hanoi-lam0.8"]["kendall_tau_prior"] == pytest.approx(11 / 15 - 4 / 15)
    assert rows["fo-a"]["kendall_tau_dp"] == pytest.approx(-1.0)  # the reverse of the distance
    # one swapped pair of 15: (14 - 1) / 15
    assert rows["hanoi"]["kendall_tau_dp"] == pytest.approx(13 / 15)
    assert np.isnan(rows["fo-c"]["kendall_tau_dp"]) and rows["fo-c"]["n_tie_groups"] == 1
    assert rows["fo-d"]["reached_fraction"] == pytest.approx(0.5)
    assert rows["hanoi"]["resolution"] == pytest.approx(0.1) and rows["hanoi"]["n_compared"] == PATHS["hanoi"]


def test_the_table_says_how_well_each_grid_resolves_its_order():
    """HIMO's priorities 0.5 apart on a 0.1 grid: every pair ordered, resolution 0.1 of
    their spread 2.5; the softmax run at 0.9, all within 0.05: no pair ordered (mostly
    ties), no agreement to read; Kakade's run in HIMO's order agrees on every pair."""
    rows = by_key(compared.comparison_table(baseline_runs()))
    assert rows["hanoi"]["resolved_pairs"] == 1.0 and rows["hanoi"]["agree_with_himo"] == 1.0
    assert rows["hanoi"]["relative_resolution"] == pytest.approx(0.1 / 2.5)
    assert rows["fo-c"]["resolved_pairs"] == 0.0 < compared.MOSTLY_TIED and np.isnan(rows["fo-c"]["agree_with_himo"])
    assert rows["np-a"]["agree_with_himo"] == 1.0
    # the gradient run at 0.9 orders its path (a detour through h6) in reverse: on the
    # states both paths pass, it orders no pair as HIMO does (HIMO's one swap is of h1)
    assert rows["fo-a"]["agree_with_himo"] == 0.0


def test_table_csv():
    text = compared.table_csv(compared.comparison_table(baseline_runs()))
    lines = text.splitlines()
    assert lines[0] == ",".join(compared.TABLE_COLUMNS)
    assert lines[2] == "hanoi,HIMO,0.9,hanoi,newton,0.1,converged,120,1,0.866667,0.866667,0.466667,0.6,0.1,6,6,0.04,1,1"
    assert "hanoi,softmax,0.9,fo-c,softmax,1,converged,120,1,,,,,0.1,6,1,2,0," in lines  # NaN: empty
    assert len(lines) == 1 + 12 and text.endswith("\n")


def test_order_table():
    """Rows: the steps to the goal, named by the main run's path; DP ranks by sweep; each
    family's ranks of its own priorities on its own path (the gradient's passes h6
    instead of h1), ties within its resolution shared and marked."""
    table = compared.order_table(baseline_runs(), "hanoi")
    assert table.foresight == 0.9 and table.main.attrs["env_key"] == "hanoi"
    assert table.states.tolist() == list(range(PATHS["hanoi"]))
    columns = {c.name: c for c in table.columns}
    ranks = {name: c.ranks.tolist() for name, c in columns.items()}
    assert ranks == {"DP": [5, 4, 3, 2, 1, 0], "HIMO": [5, 3, 4, 2, 1, 0],
                     "gradient": [0, 1, 2, 3, 4, 5], "softmax": [0] * 6, "kakade": [5, 3, 4, 2, 1, 0]}
    assert columns["gradient"].states.tolist() == [0, 6, 2, 3, 4, 5]  # its own path
    assert columns["HIMO"].states.tolist() == columns["DP"].states.tolist() == list(range(6))
    assert columns["softmax"].tied.all() and not columns["HIMO"].tied.any() and not columns["DP"].tied.any()
    fourrooms = {c.name: c for c in compared.order_table(baseline_runs(), "fourrooms").columns}
    assert fourrooms["gradient"].ranks is None and fourrooms["softmax"].run is None  # none at 0.9
    assert compared.order_table(baseline_runs(), "wormhole") is None


def test_order_table_ranks_each_run_on_its_own_path():
    """The gradient run's path passes h6 (priority 3.5) where the main run's passes h1
    (which the gradient run settles at 9.0, off its path): ranked on its own path, h6
    takes the rank h1 would take on the main run's, and the ranks are those of the
    run's own priority_rank (what its kendall_tau_dp compares)."""
    runs = baseline_runs()
    gradient = {c.name: c for c in compared.order_table(runs, "hanoi").columns}["gradient"]
    ds = gradient.run
    stored = ds["priority_rank"].values
    assert gradient.ranks.tolist() == stored[gradient.states].tolist()
    assert stored[1] == -1 and ds["priority"].values[1] == 9.0  # h1 is off its path


def test_reached_fraction_of_a_real_run():
    import himo

    mdp = himo.make_env("hanoi")
    early = measures_dataset(himo.solve(mdp, method="natural", step=0.1, max_iter=5, store_counters=False), mdp)
    done = measures_dataset(himo.solve(mdp, method="natural", store_counters=False), mdp)
    assert 0 < compared.reached_fraction(early) < compared.REACHED_FRACTION
    assert compared.reached_fraction(done) == pytest.approx(1.0, abs=1e-6)


# ------------------------------------------------------------------- the panels
def panel(fig, letter):
    (ax,) = [ax for ax in fig.axes if ax.get_title(loc="left").startswith(letter)]
    return ax


def test_figure_has_one_order_panel_per_environment_and_the_tau_panel():
    fig = figure.baselines_figure(baseline_runs())
    titles = sorted(ax.get_title(loc="left") for ax in fig.axes)
    assert titles == ["A  hanoi, λ = 0.9", "B  fourrooms, λ = 0.9", "C  rank agreement with the DP order"]


def test_order_panel_numbers_are_the_ranks():
    fig = figure.baselines_figure(baseline_runs())
    ax = panel(fig, "A")
    cells = {(round(t.get_position()[0]), round(t.get_position()[1])): t.get_text() for t in ax.texts
             if t.get_text().isdigit()}
    for j, expected in enumerate([[6, 5, 4, 3, 2, 1], [6, 4, 5, 3, 2, 1], [1, 2, 3, 4, 5, 6], [1] * 6]):
        assert [int(cells[j, i]) for i in range(6)] == expected, j
    assert [t.get_text() for t in ax.get_yticklabels()][0] == "h0 S" and "h5 G" in ax.get_yticklabels()[-1].get_text()
    headers = [t.get_text() for t in ax.get_xticklabels()]
    assert headers == ["DP\nby sweep", "HIMO\nτ = 0.87", "gradient\nτ = -1.00", "softmax\nτ: all tied",
                       "Kakade\nτ = 0.87"]
    # the gradient's own path passes h6 at h1's step: named in its cell
    assert [(t.get_gid(), t.get_text()) for t in ax.texts if (t.get_gid() or "").startswith("own:")] == \
        [("own:gradient:1", "h6")]
    # ties are hatched: every softmax cell, no other
    hatched = sorted(p.get_gid() for p in ax.patches if (p.get_gid() or "").startswith("tied:"))
    assert hatched == [f"tied:softmax:{i}" for i in range(6)]
    assert all(p.get_hatch() for p in ax.patches if (p.get_gid() or "").startswith("tied:"))
    assert "rank on each run's own optimal path" in ax.get_xlabel()
    missing = [t.get_gid() for t in panel(fig, "B").texts if (t.get_gid() or "").startswith("missing:")]
    assert missing == ["missing:gradient", "missing:softmax", "missing:kakade"]


def test_a_run_that_did_not_escape_is_greyed():
    runs = [ds for ds in baseline_runs() if ds.attrs["env_key"] != "fo-c"]
    runs.append(run("hanoi", "fo-late", "softmax", 0.9, distance_order("hanoi"), step=1.0, reached=0.3))
    ax = panel(figure.baselines_figure(runs), "A")
    assert ax.get_xticklabels()[3].get_text() == "softmax\nnot escaped"
    softmax_cells = [p for p in ax.patches if abs(p.get_x() - 2.5) < 1e-9]
    assert softmax_cells and all(matplotlib.colors.to_hex(p.get_facecolor()) == "#d9d9d9" for p in softmax_cells)


def test_tau_panel_lines_and_the_all_tied_row():
    ax = panel(figure.baselines_figure(baseline_runs()), "C")
    lines = {line.get_gid(): line for line in ax.get_lines() if line.get_gid()}
    assert set(lines) == {"tau:hanoi:HIMO", "tau:hanoi:gradient", "tau:hanoi:softmax", "tau:hanoi:kakade",
                          "tau:fourrooms:HIMO", "tau:fourrooms:gradient"}
    np.testing.assert_allclose(lines["tau:hanoi:HIMO"].get_xydata(), [[0.8, 1.0], [0.9, 13 / 15], [0.95, 1.0]])
    markers = [line for line in ax.get_lines() if not line.get_gid()]
    tied = [line for line in markers if figure.ALL_TIED_Y in line.get_ydata()]
    assert len(tied) == 1 and tied[0].get_xdata().tolist() == [0.9]  # fo-c, on the "all tied" row
    hollow = [line for line in markers if line.get_markerfacecolor() == "white"]
    assert [line.get_xydata().tolist() for line in hollow] == [[[0.95, figure.NOT_ESCAPED_Y]]]  # fo-d
    softmax = lines["tau:hanoi:softmax"].get_ydata()
    assert np.isnan(softmax).all()  # tied at 0.9, not escaped at 0.95: no line


@pytest.mark.parametrize("fmt", ["png", "pdf"])
def test_same_runs_same_bytes(fmt):
    first = render(figure.baselines_figure(baseline_runs()), fmt)
    assert render(figure.baselines_figure(baseline_runs()), fmt) == first


@pytest.mark.mpl_image_compare(filename="baselines.png", **MPL_COMPARE)
def test_image_baselines():
    return figure.baselines_figure(baseline_runs())


# ------------------------------------------------------------------ the command
def write_runs(tmp_path, runs):
    paths = []
    for ds in runs:
        path = tmp_path / f"{ds.attrs['env_key']}.nc"
        ds.to_netcdf(path)
        paths.append(str(path))
    return paths


@pytest.mark.slow
def test_cli_writes_png_pdf_and_csv(tmp_path):
    paths = write_runs(tmp_path, baseline_runs())
    out = tmp_path / "out"
    assert main(["baselines", *paths, "--png", str(out / "b.png"), "--pdf", str(out / "b.pdf"),
                 "--csv", str(out / "b.csv")]) == 0
    assert (out / "b.png").read_bytes().startswith(b"\x89PNG") and (out / "b.pdf").read_bytes().startswith(b"%PDF")
    assert (out / "b.csv").read_text() == compared.table_csv(compared.comparison_table(baseline_runs()))
    assert sorted(p.name for p in out.iterdir()) == ["b.csv", "b.pdf", "b.png"]


def test_cli_rejects_old_measures_and_runs_of_no_paper_environment(tmp_path, capsys):
    old = write_runs(tmp_path, [baseline_runs()[0].drop_vars("dp_priority")])
    assert main(["baselines", *old, "--png", str(tmp_path / "b.png"), "--csv", str(tmp_path / "b.csv")]) == 2
    assert "dp_priority" in capsys.readouterr().err
    mine = run("hanoi", "mine", "natural", 0.9, distance_order("hanoi"))
    mine.attrs["paper_env"] = ""
    assert main(["baselines", *write_runs(tmp_path, [mine]), "--png", str(tmp_path / "b.png")]) == 2
    assert "himo: error: no run of a paper environment" in capsys.readouterr().err
    assert not list(tmp_path.glob("b.*"))
