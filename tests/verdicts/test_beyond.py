"""Beyond the paper (himo.verdicts.beyond and the report's section): the runs with shared
features beside the main run and the multiplicative step's run, from tables made by hand."""

from __future__ import annotations

import dataclasses

from himo.verdicts import replication
from himo.verdicts.beyond import feature_comparisons
from himo.verdicts.vocabulary import NOT, PARTLY, REPLICATED
from test_replication import VERSIONS, lift_row, make_tables, robustness_row

FEATURES = "tabular+cluster-move"


def beyond_rows(h2_features=NOT, priority_features="2.5"):
    """H2 on hanoi's main run, its multiplicative step's run and its feature run."""
    rows = [robustness_row("H2", "hanoi", verdict=NOT, subject_priority="2.6"),
            robustness_row("H2", "hanoi", verdict=NOT, group="step rule", variant="multiplicative",
                           method="multiplicative", subject_priority="2.5"),
            robustness_row("H2", "hanoi", verdict=h2_features, group="features", variant=FEATURES,
                           features=FEATURES, subject_priority=priority_features)]
    for row in rows:
        row["env_key"] = {"main": "hanoi", "step rule": "hanoi-rule-multiplicative",
                          "features": "hanoi-features"}[row["group"]]
    return rows


def beyond_lift(features_lift=1):
    return [lift_row("hanoi", "HIMO", 0.9, "011", 0), lift_row("hanoi-rule-multiplicative", "HIMO", 0.9, "011", 1),
            lift_row("hanoi-features", "HIMO", 0.9, "011", features_lift)]


def test_the_feature_run_beside_the_main_and_multiplicative_runs():
    [c] = feature_comparisons(beyond_rows(), beyond_lift(), ["H1", "H2"])
    assert (c.paper_env, c.features, c.runs) == ("hanoi", FEATURES,
                                                  ("hanoi", "hanoi-rule-multiplicative", "hanoi-features"))
    [h2] = c.claims
    assert h2.verdicts == (NOT, NOT, NOT) and h2.priorities == (2.6, 2.5, 2.5)
    [l011] = c.lifts
    assert l011.lifts == (0, 1, 1)
    assert c.moved_verdicts == [] and c.lifted == [] and c.lowered == [] and c.same_priorities
    moved = feature_comparisons(beyond_rows(PARTLY, "2.4"), beyond_lift(3), ["H2"])[0]
    assert moved.moved_verdicts == ["H2"] and moved.lifted == ["011"] and not moved.same_priorities
    assert abs(moved.largest_priority_difference - 0.1 / 2.5) < 1e-12


def report(**kwargs):
    tables = make_tables()
    tables = dataclasses.replace(tables, robustness=tables.robustness + beyond_rows(**{
        k: v for k, v in kwargs.items() if k != "features_lift"}), lift=tables.lift + beyond_lift(
        kwargs.get("features_lift", 1)))
    return " ".join(replication.write_report(tables, VERSIONS)[0].split())


def test_the_report_says_what_the_feature_runs_show():
    same = report()
    assert "## Beyond the paper: shared features" in same
    assert "No verdict of the feature runs differs from the multiplicative step's runs." in same
    assert "coarse features do not move bottlenecks earlier" in same
    assert "as identity 12 predicts" in same
    moved = report(h2_features=REPLICATED, priority_features="2.4", features_lift=3)
    assert "change the verdict of H2" in moved and "coarse features do move bottlenecks earlier here" in moved
    assert "which identity 12 does not predict" in moved


def test_no_feature_run_no_section():
    assert "Beyond the paper" not in replication.write_report(make_tables(), VERSIONS)[0]
