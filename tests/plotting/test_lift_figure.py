"""The lift figure (himo.plotting.lift) on the synthetic runs of the baselines figure:
its panels and lines, ties drawn hollow, determinism, and its image baseline."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from test_figures import MPL_COMPARE, render  # noqa: E402

from himo.plotting.lift import lift_figure  # noqa: E402
from himo.verdicts.judging import NOT, Claim  # noqa: E402
from himo.verdicts.lift import lift_profile, lift_table  # noqa: E402
from synthetic_baselines import baseline_runs  # noqa: E402

#: The synthetic runs' bottleneck (state 2, role 'bottleneck'), claimed on both environments.
CLAIMS = [Claim(id=f"X{env}", figure="1", paper_env=env, paper_text="", definition="",
                decide=lambda ds: (NOT, {}), claimed=lambda ds: [(2, "bottleneck")])
          for env in ("hanoi", "fourrooms")]


def synthetic_figure():
    runs = baseline_runs()
    return lift_figure(lift_profile(lift_table(runs, CLAIMS), runs))


def test_profile_takes_the_runs_that_vary_the_foresight_alone():
    """HIMO at 0.8, 0.9, 0.95 (not the step-cost, map or step variants); the gradient
    at 0.9 and 0.95 on hanoi; no softmax line on fourrooms."""
    runs = baseline_runs()
    profile = lift_profile(lift_table(runs, CLAIMS), runs)
    assert list(profile) == ["hanoi", "fourrooms"]
    himo = profile["hanoi"]["HIMO"]
    assert list(himo) == [("h2", "bottleneck"), ("h1", "before bottleneck")]
    assert [row["run"] for row in himo[("h2", "bottleneck")]] == ["hanoi-lam0.8", "hanoi", "hanoi-lam0.95"]
    # the main run swaps h1 and h2 (synthetic_baselines): h2 one later than DP, h1 one earlier
    assert [row["lift"] for row in himo[("h2", "bottleneck")]] == [0, -1, 0]
    assert [row["foresight"] for row in profile["hanoi"]["gradient"][("h2", "bottleneck")]] == [0.9, 0.95]
    assert "softmax" not in profile["fourrooms"]


def test_figure_has_a_panel_per_environment_and_method_and_hollow_ties():
    fig = synthetic_figure()
    axes = fig.axes
    assert len(axes) == 8
    assert [ax.get_title(loc="left") or ax.get_title() for ax in axes[:4]] == ["HIMO", "gradient", "softmax", "kakade"]
    # hanoi's softmax run at 0.9 ties every priority: its markers are hollow
    softmax = axes[2]
    faces = [line.get_markerfacecolor() for line in softmax.lines if line.get_marker() == "o" and len(line.get_xdata())]
    assert "white" in faces
    assert axes[6].texts and axes[6].texts[0].get_text() == "no run"  # fourrooms has no softmax run


@pytest.mark.parametrize("fmt", ["png", "pdf"])
def test_same_bytes_twice(fmt):
    assert render(synthetic_figure(), fmt) == render(synthetic_figure(), fmt)


@pytest.mark.mpl_image_compare(filename="lift.png", **MPL_COMPARE)
def test_image_lift():
    return synthetic_figure()
