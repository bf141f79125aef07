"""The paper's figures, drawn from the reference runs, against their baselines.

pytest-mpl compares each returned figure with ``baseline/`` (``--mpl`` is in the
project's pytest ``addopts``). Regenerate on purpose with ``make baselines``, which
runs ``pytest tests/regression --mpl-generate-path=tests/regression/baseline``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest

from himo.plotting import figures
from reference_runs import reference_measures

pytestmark = pytest.mark.slow  # the paper's runs, solved to convergence

MPL_COMPARE = dict(
    baseline_dir=str(Path(__file__).with_name("baseline")),
    tolerance=2,  # RMS on the 0-255 scale: antialiasing noise passes, a moved curve does not
    style=str(figures.STYLE_PATH),
    savefig_kwargs={"dpi": 50, "metadata": figures.PNG_METADATA},
)
FIGURES = {"hanoi": figures.figure_1, "fourrooms": figures.figure_2, "wormhole": figures.figure_s1}


@pytest.mark.parametrize("env", sorted(FIGURES))
@pytest.mark.mpl_image_compare(**MPL_COMPARE)
def test_paper_figure(env):
    return FIGURES[env](reference_measures(env))
