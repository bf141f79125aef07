"""The measures of the paper's environments against their stored reference numbers."""

from __future__ import annotations

import json

import numpy as np
import pytest

from reference_runs import ENVIRONMENTS, REFERENCE_FILE, SOLVER, reference_measures, summarize

pytestmark = pytest.mark.slow  # the paper's runs, solved to convergence

#: Relative tolerance: loose enough for a different BLAS summation order, tight
#: enough that any change of formula, step rule or derivative scheme fails.
RTOL = 1e-6
ATOL = 1e-9


@pytest.fixture(scope="module")
def reference() -> dict:
    stored = json.loads(REFERENCE_FILE.read_text())
    assert stored["solver"] == SOLVER, "reference_runs.SOLVER changed: regenerate with `make baselines`"
    return stored["runs"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_measures_match_reference(env, reference):
    expected = reference[env]
    got = summarize(reference_measures(env))
    assert got["stop_reason"] == expected["stop_reason"]
    assert got["n_iterations"] == expected["n_iterations"]
    assert got["optimal_path"] == expected["optimal_path"]
    assert [p is None for p in got["priority"]] == [p is None for p in expected["priority"]]
    for key in ("objective_every_10", "time_every_10", "max_PD", "final_CD", "min_CD", "priority"):
        actual = np.array([np.nan if v is None else v for v in got[key]], dtype=float)
        wanted = np.array([np.nan if v is None else v for v in expected[key]], dtype=float)
        np.testing.assert_allclose(actual, wanted, rtol=RTOL, atol=ATOL, equal_nan=True, err_msg=f"{env}: {key}")
