"""The robustness atlas figures (himo.plotting.robustness) on synthetic tables, the
``himo atlas`` command, image regression.

The tables are written by hand here in the form of results/robustness.csv and
results/priority_ranks.csv (himo.verdicts.robustness writes those; tests/verdicts
tests that). Regenerate the image baselines on purpose with ``make baselines`` and
look at them before committing.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from test_figures import MPL_COMPARE, render

from himo.io import csv_text
from himo.verdicts.robustness import RANK_COLUMNS, ROBUSTNESS_COLUMNS
from himo.verdicts.vocabulary import NOT, NOT_EVALUATED, PARTLY, REPLICATED, VERDICT_LETTERS
from himo.cli import main
from himo.plotting import robustness as atlas

# -------------------------------------------------------------- synthetic tables
#: (group, variant) -> {(claim, env): verdict under the paper's priority}; the
#: alternative definition flips H2 on the main run. The fourrooms claim has no
#: "E form" run (Hanoi only), so its cell stays blank.
VERDICTS = {
    ("main", "main"): {("H2", "hanoi"): NOT, ("R1", "fourrooms"): NOT, ("G1", "hanoi"): REPLICATED,
                       ("G1", "fourrooms"): PARTLY},
    ("foresight", "0.8"): {("H2", "hanoi"): NOT, ("R1", "fourrooms"): NOT, ("G1", "hanoi"): REPLICATED,
                           ("G1", "fourrooms"): PARTLY},
    ("foresight", "0.97"): {("H2", "hanoi"): REPLICATED, ("R1", "fourrooms"): PARTLY,
                            ("G1", "hanoi"): REPLICATED, ("G1", "fourrooms"): PARTLY},
    ("E form", "printed"): {("H2", "hanoi"): NOT, ("G1", "hanoi"): NOT_EVALUATED},
    ("method", "gradient 0.9"): {("H2", "hanoi"): REPLICATED, ("R1", "fourrooms"): PARTLY,
                                 ("G1", "hanoi"): NOT, ("G1", "fourrooms"): NOT},
}
#: The order the table lists them in: the claims' order, then the groups' (as the analysis sorts).
CLAIMS_ORDER = [("H2", "hanoi"), ("R1", "fourrooms"), ("G1", "fourrooms"), ("G1", "hanoi")]


def robustness_table() -> pd.DataFrame:
    rows = []
    for claim, env in CLAIMS_ORDER:
        for (group, variant), verdicts in VERDICTS.items():
            if (claim, env) not in verdicts:
                continue
            for priority in ("peak", "half"):
                verdict = verdicts[(claim, env)]
                if priority == "half" and (claim, group) == ("H2", "main"):
                    verdict = PARTLY
                rows.append({"claim": claim, "paper_env": env, "env_key": f"{env}-{variant}", "priority": priority,
                             "verdict": verdict, "group": group, "variant": variant})
    return pd.DataFrame(rows)


#: Hanoi's path s0..s5 (goal s5); the bridge s2 overtakes s3 and s4 as the foresight
#: grows; s1, s3 and s4 each move two ranks (the movers: the first two by name).
HANOI_RANKS = {  # foresight -> ranks of s0..s5
    0.8: [6, 5, 4, 3, 2, 1],
    0.9: [6, 5, 3, 4, 2, 1],
    0.97: [6, 3, 2, 5, 4, 1],
}
#: The gradient's runs of Hanoi: its path passes s6 instead of s3 at 0.9 (a tied route).
GRADIENT_RANKS = {
    0.8: {"s0": 1, "s1": 2, "s2": 2, "s3": 4, "s4": 5, "s5": 1},
    0.9: {"s0": 1, "s1": 2, "s2": 3, "s6": 3, "s4": 5, "s5": 1},
}


def ranks_table() -> pd.DataFrame:
    rows = []
    for lam, ranks in HANOI_RANKS.items():
        for position, rank in enumerate(ranks):
            for priority in ("peak", "half"):
                rows.append({"paper_env": "hanoi", "env_key": f"hanoi-{lam}", "priority": priority,
                             "group": "main" if lam == 0.9 else "foresight", "family": "HIMO", "compared": True,
                             "foresight": lam, "state": f"s{position}", "steps_to_goal": 5 - position,
                             "rank": rank if priority == "peak" else ranks[::-1][position],
                             "role": "start" if position == 0 else "goal" if position == 5 else "",
                             "claimed_by": "H2" if position == 2 else ""})
    for lam, ranks in GRADIENT_RANKS.items():
        for position, (state, rank) in enumerate(ranks.items()):
            rows.append({"paper_env": "hanoi", "env_key": f"hanoi-gradient-{lam}", "priority": "peak",
                         "group": "method", "family": "gradient", "compared": True, "foresight": lam, "state": state,
                         "steps_to_goal": 5 - position, "rank": rank,
                         "role": "start" if position == 0 else "goal" if position == 5 else "",
                         "claimed_by": "H2" if state == "s2" else ""})
    for lam in (0.9, 0.97):  # a second environment, with a run of another group that is not drawn
        for group in ("main" if lam == 0.9 else "foresight", "step"):
            for position, rank in enumerate([3, 2, 1]):
                rows.append({"paper_env": "fourrooms", "env_key": f"fourrooms-{group}-{lam}", "priority": "peak",
                             "group": group, "family": "HIMO", "compared": group != "step", "foresight": lam,
                             "state": f"r{position}", "steps_to_goal": 2 - position, "rank": rank,
                             "role": "start" if position == 0 else "goal" if position == 2 else "",
                             "claimed_by": "R1" if position == 1 else ""})
    return pd.DataFrame(rows)


def write_tables(tmp_path):
    """The synthetic tables as the analysis writes them (all its columns, empty where unknown)."""
    paths = tmp_path / "robustness.csv", tmp_path / "ranks.csv"
    paths[0].write_text(csv_text(robustness_table().to_dict("records"), ROBUSTNESS_COLUMNS))
    paths[1].write_text(csv_text(ranks_table().to_dict("records"), RANK_COLUMNS))
    return paths


# ------------------------------------------------------------------ the heat map
def test_heatmap_layout_rows_by_claim_columns_by_group():
    rows, columns = atlas.heatmap_layout(robustness_table())
    assert rows == CLAIMS_ORDER
    assert columns == [("main", "main"), ("foresight", "0.8"), ("foresight", "0.97"), ("E form", "printed"),
                       ("method", "gradient 0.9")]


def test_the_drawn_priors_are_not_cells_of_the_heat_map():
    """Runs from drawn priors (several per label) would overwrite each other's cell: the
    heat map leaves them out, and is the same with them as without."""
    table = robustness_table()
    drawn = table[table["group"] == "main"].assign(group="prior", variant="HIMO 0.9", env_key="hanoi-prior1")
    with_drawn = pd.concat([table, drawn], ignore_index=True)
    assert atlas.heatmap_layout(with_drawn) == atlas.heatmap_layout(table)
    grid = atlas.verdict_heatmap(with_drawn).axes[0].collections[0].get_array()
    assert np.ma.allequal(grid, atlas.verdict_heatmap(table).axes[0].collections[0].get_array())


def test_heatmap_cells_are_the_verdicts():
    fig = atlas.verdict_heatmap(robustness_table())
    paper, alternative = fig.axes[:2]
    assert paper.get_title(loc="left") == atlas.PRIORITY_TITLES["peak"]
    assert alternative.get_title(loc="left") == atlas.PRIORITY_TITLES["half"]
    codes = {verdict: i for i, verdict in enumerate(atlas.VERDICT_COLOURS)}
    rows, columns = atlas.heatmap_layout(robustness_table())
    grid = paper.collections[0].get_array().reshape(len(rows), len(columns))
    for (group, variant), verdicts in VERDICTS.items():
        j = columns.index((group, variant))
        for i, row in enumerate(rows):
            if row in verdicts:
                assert grid[i, j] == codes[verdicts[row]], (row, group, variant)
            else:
                assert np.ma.is_masked(grid[i, j]), (row, group, variant)  # blank: no such run
    letters = [t.get_text() for t in paper.texts if t.get_text() in set(VERDICT_LETTERS.values())]
    assert len(letters) == sum(len(v) for v in VERDICTS.values())
    half = alternative.collections[0].get_array().reshape(len(rows), len(columns))
    assert half[0, 0] == codes[PARTLY] and grid[0, 0] == codes[NOT]
    # a group of one column is named in its label, a group of several above its columns
    labels = [t.get_text() for t in paper.get_xticklabels()]
    assert labels == ["main", "0.8", "0.97", "E form: printed", "method: gradient 0.9"]
    assert "foresight" in [t.get_text() for t in paper.texts]
    colours = {to_hex(p.get_facecolor()) for p in fig.legends[0].get_patches()}
    assert colours == {to_hex(colour) for colour in atlas.VERDICT_COLOURS.values()}
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == [f"{VERDICT_LETTERS[verdict]} {verdict}" for verdict in atlas.VERDICT_COLOURS]


# --------------------------------------------------------------- the ranks figure
def test_rank_figure_draws_each_state_against_the_foresight():
    """A row per family under the paper's definition, then HIMO under the other; the
    claimed state and the mover in colour and labelled; a state off a run's own path
    breaks its line; runs not compared are not drawn."""
    fig = atlas.rank_figure(ranks_table())
    axes = np.asarray(fig.axes).reshape(3, 2)  # (HIMO, gradient, HIMO half) x (hanoi, fourrooms)
    assert [ax.get_title(loc="left") for ax in axes[:, 0]] == ["hanoi: HIMO", "hanoi: gradient",
                                                               "hanoi: HIMO, PD~ = 1/2"]
    assert axes[0, 1].get_title(loc="left") == "fourrooms: HIMO"
    hanoi = axes[0, 0]
    lines = {line.get_gid(): line for line in hanoi.get_lines()}
    bridge = lines["claimed:s2"]
    np.testing.assert_array_equal(bridge.get_ydata(), [4, 3, 2])  # s2 overtakes s3 and s4
    np.testing.assert_allclose(bridge.get_xdata(), -np.log(1 - np.array([0.8, 0.9, 0.97])))
    kinds = sorted(gid.split(":")[0] for gid in lines)
    assert kinds == ["between", "claimed", "goal", "mover", "mover", "other"]
    assert atlas.movers(ranks_table().query("family == 'HIMO' and priority == 'peak' and paper_env == 'hanoi'")) \
        == {"s1": 2, "s3": 2}  # the start and the bridge aside; by how many, then by name
    labels = {t.get_gid(): t.get_text() for t in hanoi.texts}
    assert labels == {"label:s2": "s2 (H2)", "label:s1": "s1 (2)", "label:s3": "s3 (2)"}
    assert hanoi.get_ylim()[0] > hanoi.get_ylim()[1]  # rank 1 at the top
    # the gradient's own path: s3 off it at 0.9 (a break), s6 on it there only
    gradient = {line.get_gid(): line for line in axes[1, 0].get_lines()}
    s3 = next(line for gid, line in gradient.items() if gid.endswith(":s3"))
    np.testing.assert_array_equal(s3.get_ydata(), [4, np.nan])  # its foresights: 0.8, 0.9
    s6 = next(line for gid, line in gradient.items() if gid.endswith(":s6"))
    np.testing.assert_array_equal(s6.get_ydata(), [np.nan, 3])
    # the other group's runs are not drawn: fourrooms has one line per state
    assert len(axes[0, 1].get_lines()) == 3
    assert [t.get_text() for t in axes[1, 1].texts] == ["no run"]  # no fourrooms gradient
    assert len(fig.legends) == 1


@pytest.mark.parametrize("change", [{"compared": False}, {"paper_env": ""}], ids=["not-compared", "own-env"])
def test_rank_figure_without_a_foresight_series_says_so(change):
    """Runs not compared, or of your own environments (no paper_env), are not drawn."""
    fig = atlas.rank_figure(ranks_table().assign(**change))
    assert not fig.axes and "no run of a paper environment" in fig.texts[0].get_text()


# ---------------------------------------------------------------------- the command
@pytest.mark.slow
def test_atlas_command_writes_both_figures_deterministically(tmp_path):
    robustness, ranks = write_tables(tmp_path)
    outputs = []
    for i in range(2):
        out = [tmp_path / f"{name}{i}.{ext}" for name in ("heat", "ranks") for ext in ("png", "pdf")]
        assert main(["atlas", str(robustness), str(ranks), "--heatmap", str(out[0]), "--heatmap-pdf", str(out[1]),
                     "--ranks-figure", str(out[2]), "--ranks-pdf", str(out[3])]) == 0
        outputs.append([path.read_bytes() for path in out])
    assert outputs[0] == outputs[1]
    assert outputs[0][0].startswith(b"\x89PNG") and outputs[0][1].startswith(b"%PDF")


def test_read_table_reads_the_drawn_columns_as_numbers_and_the_others_as_text(tmp_path):
    robustness, ranks = write_tables(tmp_path)
    verdicts = atlas.read_table(robustness, atlas.ROBUSTNESS_NEEDS)
    assert "0.8" in list(verdicts["variant"]) and verdicts["foresight"].isna().all()  # empty: NaN
    read = atlas.read_table(ranks, atlas.RANKS_NEEDS)
    assert read["rank"].dtype.kind == "i" and read["foresight"].dtype.kind == "f"
    assert list(read["rank"]) == list(ranks_table()["rank"]) and read["claimed_by"].iloc[0] == ""
    ranks.write_text(ranks.read_text().splitlines()[0] + "\n")  # the header only: no run
    assert atlas.read_table(ranks, atlas.RANKS_NEEDS).empty


def test_atlas_command_errors(tmp_path, capsys):
    robustness, ranks = write_tables(tmp_path)
    robustness.write_text(robustness.read_text().replace("verdict", "verdikt", 1))
    out = tmp_path / "heat.png"
    assert main(["atlas", str(robustness), str(ranks), "--heatmap", str(out), "--ranks-figure",
                 str(tmp_path / "r.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("himo: error:") and "verdict" in err and "robustness.csv" in err
    assert not out.exists()


def test_rendering_is_deterministic():
    fig = atlas.verdict_heatmap(robustness_table())
    assert render(fig, "png") == render(fig, "png")


# ------------------------------------------------------------------ image regression
@pytest.mark.mpl_image_compare(filename="robustness_heatmap.png", **MPL_COMPARE)
def test_image_heatmap():
    return atlas.verdict_heatmap(robustness_table())


@pytest.mark.mpl_image_compare(filename="priority_ranks.png", **MPL_COMPARE)
def test_image_ranks():
    return atlas.rank_figure(ranks_table())
