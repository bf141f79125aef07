"""The thesis's findings (himo.verdicts.thesis) from hand-made tables with the
workflow's columns: the lift table, ahead and behind, the baselines against HIMO, the
natural-gradient comparison and the nulls; flipping the lifts flips the findings."""

from __future__ import annotations

from himo.verdicts.lift import LIFT_COLUMNS
from himo.verdicts.thesis import HIMO, thesis_findings

FAMILIES = ["HIMO", "gradient", "softmax", "kakade"]


def row(run, family, foresight, state, lift, tied=False, role="bridge", compared=True, env="hanoi"):
    values = {"run": run, "method": "natural", "family": family, "foresight": f"{foresight:g}", "paper_env": env,
              "compared": "true" if compared else "false", "state": state, "role": role, "on_path": "true",
              "priority": "1", "dp_rank": "3", "rank": "", "lift": "" if lift is None else str(lift),
              "tied": "true" if tied else "false", "tied_with": "", "stop_reason": "converged"}
    assert tuple(values) == LIFT_COLUMNS
    return values


def lift_rows(sign=1):
    """HIMO at 0.9 (the main run: lifts 0 and 0) and 0.99 (011 ahead by 3, 211 behind by
    1); the gradient at both, 011 ahead by 4 (tied) at 0.99; rows not compared and
    crossing states are left out."""
    return [
        row("hanoi", HIMO, 0.9, "011", 0), row("hanoi", HIMO, 0.9, "211", 0),
        row("hanoi-lam0.99", HIMO, 0.99, "011", 3 * sign), row("hanoi-lam0.99", HIMO, 0.99, "211", -1 * sign),
        row("hanoi-lam0.99", HIMO, 0.99, "012", 5, role="before bridge"),
        row("hanoi-gradient-lam0.9", "gradient", 0.9, "011", 0), row("hanoi-gradient-lam0.9", "gradient", 0.9, "211", None),
        row("hanoi-gradient-lam0.99", "gradient", 0.99, "011", 4, tied=True),
        row("hanoi-gradient-lam0.99", "gradient", 0.99, "211", 0),
        row("hanoi-step1", HIMO, 0.9, "011", 7, compared=False),
    ]


CLAIMS = {
    "H1": {"verdict": "replicated", "dp_order_passes": True, "dp_order_verdict": "replicated",
           "null_pass_rate": 0.125, "null_standard_error": 0.0, "null_verdicts": {"replicated": 0.125},
           "null_method": "exact"},
    "H2": {"verdict": "not replicated", "dp_order_passes": False, "dp_order_verdict": "not replicated",
           "null_pass_rate": 0.3, "null_standard_error": 0.02, "null_verdicts": {}, "null_method": "mc"},
    "G1": {"verdict": "partly replicated"},
    "N1": {"verdict": "not replicated", "numbers": {"runs": {
        "hanoi": {"pairs_reversed": 0, "pairs_alike": 27, "median_relative_priority_difference": 0.05},
        "fourrooms": {"pairs_reversed": 0, "pairs_alike": 209, "median_relative_priority_difference": 0.03}}}},
}


def test_the_lift_table_and_what_himo_moves():
    thesis = thesis_findings(lift_rows(), CLAIMS, FAMILIES)
    (env,) = thesis.environments
    assert env.paper_env == "hanoi" and env.main_foresight == 0.9
    assert sorted(env.cells) == ["HIMO", "gradient"] and thesis.families == ["HIMO", "gradient"]
    assert env.cells[HIMO][0.99].lifts == {"011": 3, "211": -1} and env.cells[HIMO][0.99].total == 2
    assert env.cells["gradient"][0.9].lifts == {"011": 0, "211": None}  # off the path: no lift
    assert env.main_cell().total == 0
    assert env.ahead == {"011": [0.99]} and env.behind == {"211": [0.99]}
    assert thesis.himo_ahead_somewhere == ["hanoi"]
    # the gradient's 4 (tied) beats HIMO's 2 at 0.99
    assert env.at_least_as_far == {"gradient": [0.99]} and env.farther == {"gradient": [0.99]}
    assert env.cells["gradient"][0.99].tied == ["011"]


def test_flipping_the_lifts_flips_the_findings():
    thesis = thesis_findings(lift_rows(sign=-1), CLAIMS, FAMILIES)
    (env,) = thesis.environments
    assert env.ahead == {"211": [0.99]} and env.behind == {"011": [0.99]}
    assert env.cells[HIMO][0.99].total == -2
    assert env.at_least_as_far == {"gradient": []}  # HIMO lifts nothing to be matched
    assert env.farther == {"gradient": [0.99]}


def test_the_natural_gradient_and_the_nulls():
    thesis = thesis_findings(lift_rows(), CLAIMS, FAMILIES)
    assert thesis.npg_verdict == "not replicated" and thesis.distinct_from_npg is False
    assert (thesis.npg_pairs_reversed, thesis.npg_pairs_compared) == (0, 236)
    assert thesis.npg_median_priority_difference == 0.05
    assert thesis.dp_passes == ["H1"]
    assert sorted(thesis.nulls) == ["H1", "H2"] and thesis.nulls["H2"]["null_pass_rate"] == 0.3
    reversed_ = dict(CLAIMS, N1={"verdict": "replicated", "numbers": {"runs": {
        "hanoi": {"pairs_reversed": 2, "pairs_alike": 25, "median_relative_priority_difference": 0.2}}}})
    assert thesis_findings(lift_rows(), reversed_, FAMILIES).distinct_from_npg is True
    assert thesis_findings(lift_rows(), {k: v for k, v in CLAIMS.items() if k != "N1"}, FAMILIES).npg_verdict is None
    unjudged = dict(CLAIMS, N1={"verdict": "not evaluated", "numbers": {"reason": "no kakade run"}})
    assert thesis_findings(lift_rows(), unjudged, FAMILIES).distinct_from_npg is None
