"""How firm the orders are: the runs from priors drawn near the uniform one
(himo.verdicts.baselines.prior_table, results/prior_runs.csv; himo.verdicts.priors, the
report's section), from real runs and from tables made by hand."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import himo
from himo.io import csv_text, read_csv
from himo.measures.dataset import measures_dataset
from himo.verdicts import baselines as B
from himo.verdicts import findings as F
from himo.verdicts import replication
from himo.verdicts.priors import firm_count, prior_spread
from himo.verdicts.vocabulary import NOT, PARTLY, REPLICATED
from test_replication import VERSIONS, lift_row, make_tables, robustness_row

SETTINGS = {"step": 0.1, "step_rule": "fixed", "tol": 1e-5}
BASELINE = {"method": "gradient", "step": 0.1, "step_rule": "bounded", "tol": 1e-6}


def hanoi_run(mdp, key: str, **settings) -> "xr.Dataset":
    trajectory = himo.solve(mdp, lam=0.9, provenance={"env_key": key, "paper_env": "hanoi"}, **settings)
    return measures_dataset(trajectory, mdp)


@pytest.fixture(scope="module")
def hanoi_runs():
    """The main run, a gradient run (both from the uniform prior) and each from seeds 1 and 2."""
    mdp = himo.make_env("hanoi")
    return [hanoi_run(mdp, "hanoi", **SETTINGS), hanoi_run(mdp, "hanoi-gradient-lam0.9", **BASELINE),
            *(hanoi_run(mdp, f"hanoi-prior{seed}", prior_seed=seed, **SETTINGS) for seed in (1, 2)),
            *(hanoi_run(mdp, f"hanoi-gradient-lam0.9-prior{seed}", prior_seed=seed, **BASELINE) for seed in (2, 1))]


def test_the_drawn_priors_stay_out_of_the_compared_runs(hanoi_runs):
    compared = {row["env_key"] for row in B.comparison_table(hanoi_runs)}
    assert compared == {"hanoi", "hanoi-gradient-lam0.9"}


def test_the_prior_table_lists_each_setting_uniform_prior_first(hanoi_runs):
    rows = B.prior_table(hanoi_runs)
    assert [(row["family"], row["env_key"], row["seed"]) for row in rows] == [
        ("HIMO", "hanoi", None), ("HIMO", "hanoi-prior1", 1), ("HIMO", "hanoi-prior2", 2),
        ("gradient", "hanoi-gradient-lam0.9", None), ("gradient", "hanoi-gradient-lam0.9-prior1", 1),
        ("gradient", "hanoi-gradient-lam0.9-prior2", 2)]
    by_key = {B.run_key(ds): ds for ds in hanoi_runs}
    for row in rows:
        ds = by_key[row["env_key"]]
        assert row["kendall_tau_dp"] == float(ds["kendall_tau_dp"])
        assert row["prior_concentration"] == (100.0 if row["seed"] else None)
    # each drawn prior's run is compared with HIMO's from the same prior
    gradient_seed1 = next(row for row in rows if row["env_key"] == "hanoi-gradient-lam0.9-prior1")
    expected = B.resolution_columns(by_key["hanoi-gradient-lam0.9-prior1"], by_key["hanoi-prior1"])
    assert gradient_seed1["agree_with_himo"] == expected["agree_with_himo"]
    text = csv_text(rows, B.PRIOR_COLUMNS)
    assert text.splitlines()[0].split(",")[:5] == ["paper_env", "family", "foresight", "seed", "prior_concentration"]


def test_the_drawn_priors_start_elsewhere_and_end_at_the_same_optimum(hanoi_runs):
    by_key = {B.run_key(ds): ds for ds in hanoi_runs}
    main, drawn = by_key["hanoi"], by_key["hanoi-prior1"]
    assert main.attrs["optimal_objective"] == drawn.attrs["optimal_objective"]
    assert not np.array_equal(main["priority"].values, drawn["priority"].values)


# ------------------------------------------------------------ the spread, by hand
def prior_rows():
    """results/prior_runs.csv of one setting: the uniform prior's run and three drawn ones."""
    def row(key, seed, tau):
        return {"paper_env": "hanoi", "family": "HIMO", "foresight": "0.9", "seed": seed,
                "prior_concentration": "100" if seed else "", "env_key": key, "stop_reason": "converged",
                "kendall_tau_dp": tau}
    return [row("hanoi", "", "0.9"), row("hanoi-prior1", "1", "0.8"), row("hanoi-prior2", "2", "1"),
            row("hanoi-prior3", "3", "0.7")]


def spread_tables(h1_seed3=REPLICATED):
    robustness = [robustness_row("H1", "hanoi"), robustness_row("H2", "hanoi", verdict=NOT)]
    for seed, h2 in ((1, NOT), (2, PARTLY), (3, NOT)):
        robustness += [robustness_row("H1", "hanoi", verdict=h1_seed3 if seed == 3 else REPLICATED,
                                      group="prior", variant=f"prior{seed}", seed=seed),
                       robustness_row("H2", "hanoi", verdict=h2, group="prior", variant=f"prior{seed}", seed=seed)]
    lift = [lift_row("hanoi", "HIMO", 0.9, "011", 1)]
    lift += [lift_row(f"hanoi-prior{seed}", "HIMO", 0.9, "011", value) for seed, value in ((1, 2), (2, 0), (3, ""))]
    return robustness, lift


def test_the_spread_counts_the_verdicts_and_spans_the_numbers():
    robustness, lift = spread_tables()
    [setting] = prior_spread(prior_rows(), robustness, lift, ["H1", "H2"])
    assert (setting.paper_env, setting.family, setting.foresight, setting.seeds) == ("hanoi", "HIMO", 0.9, [1, 2, 3])
    h1, h2 = setting.claims
    assert (h1.uniform, h1.counts, h1.firm) == (REPLICATED, {REPLICATED: 3}, True)
    assert (h2.uniform, h2.counts, h2.agree, h2.firm, h2.others) == (NOT, {NOT: 2, PARTLY: 1}, 2, False, {PARTLY: 1})
    assert setting.moved == [h2] and firm_count([setting]) == (1, 2)
    assert (setting.tau.uniform, setting.tau.median, setting.tau.low, setting.tau.high) == (0.9, 0.8, 0.7, 1.0)
    [lift_011] = setting.lifts
    assert (lift_011.lift.uniform, lift_011.lift.values, lift_011.off_path) == (1.0, [2.0, 0.0], 1)
    assert lift_011.lift.median == 1.0 and lift_011.same_sign == 1


def test_the_report_words_follow_the_spread():
    """The section's counts come from the tables: a drawn prior that gives another verdict
    turns a firm claim into one that moves."""
    def report(h1_seed3):
        robustness, lift = spread_tables(h1_seed3)
        tables = make_tables()
        tables = dataclasses.replace(tables, robustness=tables.robustness + robustness[2:],
                                     lift=tables.lift + lift[1:], priors=prior_rows())
        return replication.write_report(tables, VERSIONS)[0]
    firm, moved = report(REPLICATED), report(PARTLY)
    assert "## How firm the orders are" in firm
    assert "1 are the uniform prior's under every drawn prior" in firm.replace("\n", " ")
    assert "H1 on hanoi at 0.9 (R 2/3, P 1)" in moved
    assert "H1 on hanoi at 0.9" not in firm
    # the uniform run's lifts are make_tables' (0); 211 has none from the drawn priors
    assert "| HIMO | 0.9 | R 3/3 | N 2/3, P 1 | 0.90; 0.80 (0.70 to 1.00) | 0; 1 (0 to 2) | 0 |" in firm
    # the summary's column: HIMO at the main run's settings, claim by claim
    summary_h1 = next(line for line in moved.splitlines() if line.startswith("| H1 | 1 |"))
    assert "| R 2/3, P 1 |" in summary_h1


def test_no_drawn_priors_no_section():
    assert "How firm the orders are" not in replication.write_report(make_tables(), VERSIONS)[0]


def test_the_prior_table_reads_back(tmp_path, hanoi_runs):
    path = tmp_path / "prior_runs.csv"
    path.write_text(csv_text(B.prior_table(hanoi_runs), B.PRIOR_COLUMNS))
    rows = read_csv(path)
    assert [row["seed"] for row in rows] == ["", "1", "2", "", "1", "2"]
