"""Figure layout, deterministic output, the ``himo figure`` command and image regression.

Image regression uses pytest-mpl: ``--mpl`` is in the project's pytest ``addopts``,
so a plain ``pytest`` compares every ``mpl_image_compare`` test against
``tests/plotting/baseline/``. Regenerate the baselines on purpose with::

    .venv/bin/pytest tests/plotting --mpl-generate-path=tests/plotting/baseline

(the Makefile's ``baselines`` target), then look at the new images before committing.
"""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import pytest

from himo.cli import main
from himo.measures.dataset import time_series
from himo.plotting import figures, panels
from synthetic_measures import BASELINE_DIR, graph_measures, grid_measures

#: RMS tolerance (0-255 scale) for the image comparisons: small, but above the
#: antialiasing noise of a different FreeType build.
TOLERANCE = 2
MPL_COMPARE = dict(
    baseline_dir=str(BASELINE_DIR),
    tolerance=TOLERANCE,
    style=str(figures.STYLE_PATH),
    savefig_kwargs={"dpi": 60, "metadata": figures.PNG_METADATA},
)


def render(fig, fmt: str) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=80,
                metadata=figures.PNG_METADATA if fmt == "png" else figures.PDF_METADATA)
    return buffer.getvalue()


def test_figure_has_panels_a_to_f(graph_ds):
    fig = figures.figure_1(graph_ds)
    titles = sorted(ax.get_title(loc="left") for ax in fig.axes)
    assert titles == list("ABCDEF")
    assert fig.get_layout_engine().__class__.__name__ == "ConstrainedLayoutEngine"


def test_panel_d_labels_the_states_the_claims_name(graph_ds):
    """As a run of the paper's Hanoi, the graph's bridge (H2: where the path leaves the
    start's cluster for the goal's, s4 to s6) is labelled in panel D; as a run of no
    paper environment, nothing is."""
    hanoi = graph_ds.assign_attrs(paper_env="hanoi")
    assert figures.claimed_states(hanoi) == [(4, "bridge"), (6, "bridge")]
    assert figures.claimed_states(graph_ds) == []

    def labels(ds):
        (ax_d,) = [ax for ax in figures.figure_1(ds).axes if ax.get_title(loc="left") == "D"]
        return sorted(t.get_gid() for t in ax_d.texts if (t.get_gid() or "").startswith("label:"))

    assert labels(hanoi) == ["label:s4", "label:s6"]
    assert labels(graph_ds) == []


@pytest.mark.parametrize("normalized", [True, False], ids=["normalized", "raw"])
def test_normalized_flag_picks_the_variables(graph_ds, normalized):
    fig = figures.dynamics_figure(graph_ds, normalized=normalized)
    (ax_b,) = [ax for ax in fig.axes if ax.get_title(loc="left") == "B"]
    assert ax_b.get_ylabel().startswith("PD~" if normalized else "policy")


def test_bottleneck_style_follows_the_data(grid_ds, graph_ds):
    def bottleneck_dashes(ds, label):
        fig = figures.dynamics_figure(ds)
        (ax_b,) = [ax for ax in fig.axes if ax.get_title(loc="left") == "B"]
        (line,) = [l for l in ax_b.get_lines() if l.get_gid() == f"state:{label}"]
        return tuple(line._unscaled_dash_pattern[1])

    assert bottleneck_dashes(grid_ds, "r2c3") == panels.SHORT_DASHES[1]  # has a wormhole
    assert bottleneck_dashes(graph_ds, "s1") == panels.DOTTED[1]


def test_active_time_crops_to_the_dynamics():
    """The run goes on to t = 40, its dynamics settle by about t = 12: the figure ends
    shortly after (the margin), every rate has fallen below 1 % of its peak by then,
    and --t-max inf shows the whole run."""
    ds = graph_measures(t_end=40.0)
    time = ds.time.values
    t = figures.active_time(ds)
    assert time[0] < t < 0.5 * time[-1]
    settled = time > t / 1.2 + 1e-9  # after the last unsettled time (t is it times the margin 1.2)
    for name in ("dPD_norm_dt", "dCD_norm_dt"):
        rate = abs(time_series(ds, name)).max("state").values
        assert rate[settled].max() <= 0.01 * rate.max(), name
    for t_max, expected in ((None, t), (float("inf"), time[-1]), (5.0, 5.0)):
        fig = figures.dynamics_figure(ds, t_max=t_max)
        (ax_b,) = [ax for ax in fig.axes if ax.get_title(loc="left") == "B"]
        assert ax_b.get_xlim()[1] == pytest.approx(expected), t_max


@pytest.mark.parametrize(
    "build, fmt",
    [(graph_measures, "png"), (grid_measures, "png"), (grid_measures, "pdf")],
    ids=["graph-png", "grid-png", "grid-pdf"],
)
def test_same_data_same_bytes(build, fmt):
    first = render(figures.dynamics_figure(build()), fmt)
    second = render(figures.dynamics_figure(build()), fmt)
    assert first == second
    if fmt == "pdf":
        assert b"CreationDate" not in first and b"Producer" not in first
    else:
        assert b"Software" not in first


@pytest.mark.slow
def test_cli_writes_png_and_pdf(tmp_path):
    """One run (reproducibility of the bytes is test_same_data_same_bytes)."""
    source = tmp_path / "measures.nc"
    graph_measures().to_netcdf(source)
    png, pdf = tmp_path / "f.png", tmp_path / "out" / "f.pdf"
    assert main(["figure", str(source), str(png), "--pdf", str(pdf), "--raw", "--t-max", "5"]) == 0
    assert png.read_bytes().startswith(b"\x89PNG") and pdf.read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["f.pdf", "f.png", "measures.nc", "out"]


def test_cli_rejects_incomplete_measures(tmp_path, capsys):
    source = tmp_path / "measures.nc"
    graph_measures().drop_vars(["CD"]).to_netcdf(source)
    assert main(["figure", str(source), str(tmp_path / "f.png")]) == 2
    assert "misses CD" in capsys.readouterr().err
    assert not (tmp_path / "f.png").exists()


def test_cli_unreadable_file(tmp_path, capsys):
    bad = tmp_path / "bad.nc"
    bad.write_text("not netcdf")
    assert main(["figure", str(bad), str(tmp_path / "f.png")]) == 2
    assert "himo: error:" in capsys.readouterr().err


@pytest.mark.mpl_image_compare(filename="graph_normalized.png", **MPL_COMPARE)
def test_image_graph_normalized():
    return figures.figure_1(graph_measures())


@pytest.mark.mpl_image_compare(filename="grid_raw.png", **MPL_COMPARE)
def test_image_grid_raw():
    return figures.figure_s1(grid_measures())
