"""Each panel function on small synthetic measures (tests/plotting/conftest.py)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors
import numpy as np
import pytest
from matplotlib.figure import Figure

from himo.measures.dataset import time_series
from himo.plotting import panels
from synthetic_measures import graph_measures

CURVE_PANELS = {
    "PD": (panels.plot_policy_divergence, "PD"),
    "dPD": (panels.plot_policy_divergence_rate, "dPD_dt"),
    "CD": (panels.plot_counter_difference, "CD"),
    "dCD": (panels.plot_counter_difference_rate, "dCD_dt"),
}


def new_axes():
    return Figure().add_subplot()


def state_lines(ax) -> dict:
    return {line.get_gid().removeprefix("state:"): line for line in ax.get_lines()
            if (line.get_gid() or "").startswith("state:")}


def dash_sequence(line) -> tuple:
    """The unscaled dash sequence of a line (None for solid)."""
    return tuple(line._unscaled_dash_pattern[1] or ()) or None


@pytest.mark.parametrize("normalized", [True, False], ids=["normalized", "raw"])
@pytest.mark.parametrize("panel", list(CURVE_PANELS), ids=list(CURVE_PANELS))
def test_curve_panel_one_line_per_state(graph_ds, panel, normalized):
    plot, variable = CURVE_PANELS[panel]
    ax = plot(new_axes(), graph_ds, normalized=normalized)
    lines = state_lines(ax)
    assert sorted(lines) == sorted(graph_ds.state.values.tolist())
    name = variable.replace("PD", "PD_norm").replace("CD", "CD_norm") if normalized else variable
    np.testing.assert_array_equal(lines["s6"].get_ydata(), time_series(graph_ds, name).sel(state="s6").values)


def test_curve_styles_follow_roles_and_path(graph_ds):
    ax = panels.plot_policy_divergence(new_axes(), graph_ds)
    lines = state_lines(ax)
    for label in ("s1", "s2", "s4"):  # bottlenecks
        assert dash_sequence(lines[label]) == panels.DOTTED[1]
    for label in ("s0", "s3", "s5", "s6"):
        assert dash_sequence(lines[label]) is None
    for label in ("s0", "s4", "s6"):  # on the optimal path
        assert lines[label].get_alpha() == 1.0
    for label in ("s1", "s2", "s3", "s5"):
        assert lines[label].get_alpha() == pytest.approx(panels.OFF_PATH_ALPHA)


def test_colours_start_cluster_red_goal_cluster_blue(graph_ds):
    lines = state_lines(panels.plot_counter_difference(new_axes(), graph_ds))
    colour = {k: mcolors.to_hex(line.get_color()) for k, line in lines.items()}
    assert colour["s0"] == colour["s1"] == colour["s4"] == panels.START_COLOUR  # cluster 0
    assert colour["s3"] == colour["s6"] == panels.GOAL_COLOUR  # cluster 2
    assert colour["s2"] == colour["s5"] == panels.NEUTRAL_COLOURS[0]  # cluster 1


def test_wormhole_long_dashes_bottleneck_short_dashes(grid_ds):
    styles = panels.state_styles(grid_ds, bottleneck_style=panels.SHORT_DASHES)
    lines = state_lines(panels.plot_policy_divergence(new_axes(), grid_ds, styles=styles))
    assert dash_sequence(lines["r2c2"]) == dash_sequence(lines["r3c4"]) == panels.LONG_DASHES[1]
    assert dash_sequence(lines["r2c3"]) == panels.SHORT_DASHES[1]
    assert dash_sequence(lines["r1c1"]) is None


def test_grid_rooms_are_clusters_wormhole_joins_none(grid_ds):
    styles = panels.state_styles(grid_ds)
    labels = grid_ds.state.values.tolist()
    colour = dict(zip(labels, styles.colour))
    assert colour["r1c1"] == colour["r2c2"] == panels.START_COLOUR  # west room, with the entrance
    assert colour["r3c5"] == colour["r3c4"] == panels.GOAL_COLOUR  # east room, with the exit
    assert colour["r2c3"] == panels.NO_CLUSTER_COLOUR  # the doorway


def test_labels_come_from_attributes(graph_ds):
    graph_ds["PD"].attrs.update(long_name="a divergence (Eq. 12)", units="nats")
    ax = panels.plot_policy_divergence(new_axes(), graph_ds, normalized=False)
    assert ax.get_ylabel() == "a divergence [nats]"
    assert ax.get_xlabel() == "planning time"  # units equal to the name are omitted
    graph_ds["PD"].attrs["short_name"] = "PD"
    ax = panels.plot_policy_divergence(new_axes(), graph_ds, normalized=False)
    assert ax.get_ylabel() == "PD [nats]"


def test_value_panel_dots_on_path_priorities_on_the_curve(graph_ds):
    ax = panels.plot_value(new_axes(), graph_ds)
    (value,) = [line for line in ax.get_lines() if line.get_gid() == "value"]
    np.testing.assert_allclose(value.get_ydata(), graph_ds.objective.values)
    (dots,) = [c for c in ax.collections if c.get_gid() == "priorities"]
    xy = dots.get_offsets()
    on_path = graph_ds.priority.values[graph_ds.on_optimal_path.values]
    assert sorted(xy[:, 0]) == sorted(on_path)
    np.testing.assert_allclose(xy[:, 1], np.interp(xy[:, 0], graph_ds.time.values, graph_ds.objective.values))
    assert ax.get_ylabel() == "policy value R(A_t) [reward]"
    marks = {t.get_gid() for t in ax.texts}
    assert {"mark:S", "mark:G"} <= marks


def labels_of(ax) -> dict:
    """``{gid: text}`` of panel D's labels (``label:<states>``)."""
    return {t.get_gid(): t for t in ax.texts if (t.get_gid() or "").startswith("label:")}


def test_value_panel_labels_the_claimed_states_and_dots_an_off_path_one(graph_ds):
    """s4 is on the path, s2 off it: both labelled (bold), s2 a hollow dot at its priority."""
    ax = panels.plot_value(new_axes(), graph_ds, claimed=[(4, "bridge"), (2, "bridge")])
    labels = labels_of(ax)
    assert {gid: t.get_text() for gid, t in labels.items()} == {"label:s4": "s4", "label:s2": "s2"}
    assert all(t.get_fontweight() == "bold" for t in labels.values())
    assert labels["label:s4"].xy == pytest.approx((3.0, np.interp(3.0, graph_ds.time, graph_ds.objective)))
    (hollow,) = [c for c in ax.collections if c.get_gid() == "priorities:off path"]
    np.testing.assert_allclose(hollow.get_offsets()[:, 0], [5.0])  # s2's priority
    assert mcolors.to_hex(hollow.get_facecolor()[0]) == "#ffffff"
    (dots,) = [c for c in ax.collections if c.get_gid() == "priorities"]
    assert sorted(dots.get_offsets()[:, 0]) == [1.5, 3.0, 6.0]  # the on-path dots, as before
    assert not ax.child_axes  # nothing crowds: no zoom


def with_priorities(ds, values, path):
    """``ds`` with these priorities and this optimal path (state indices, start first)."""
    position = np.full(ds.sizes["state"], -1)
    position[list(path)] = np.arange(len(path))
    return ds.assign(priority=("state", np.asarray(values, float)), optimal_path_position=("state", position),
                     on_optimal_path=("state", position >= 0))


def test_dots_that_hide_each_other_get_one_label_naming_them():
    """Two on-path dots at one place: no zoom (fewer than ZOOM_MIN_DOTS), one label naming both."""
    ds = with_priorities(graph_measures(), [6.0, 4.0, 5.0, 3.5, 3.0, 7.0, 3.0], path=[0, 4, 6])
    ax = panels.plot_value(new_axes(), ds)
    assert {gid: t.get_text() for gid, t in labels_of(ax).items()} == {"label:s4 s6": "s4, s6"}
    assert labels_of(ax)["label:s4 s6"].get_fontweight() == "normal"  # no claimed state among them
    assert not ax.child_axes
    groups = panels.hidden_groups(ax, panels.priority_dots(ds, panels.state_styles(ds)), panels.DOT_SIZE)
    assert [[d.label for d in group] for group in groups] == [["s4", "s6"]]


def test_crowded_dots_are_zoomed_with_their_labels_in_the_zoom():
    """Four dots 0.02 apart near the start of the curve: an inset zoom holds them, spread
    out (none hides another there), the claimed one labelled in it; the dots beyond
    stay in the panel."""
    ds = with_priorities(graph_measures(), [1.0, 1.02, 1.04, 1.06, 3.0, 5.0, 7.0], path=[0, 1, 2, 3, 4, 5, 6])
    ax = panels.plot_value(new_axes(), ds, claimed=[(2, "bridge")])
    (inset,) = ax.child_axes
    assert inset.get_gid() == "zoom"
    low, high = inset.get_xlim()
    assert low < 1.0 and 1.06 < high < 3.0
    (zoomed,) = [c for c in inset.collections if c.get_gid() == "zoom priorities"]
    np.testing.assert_allclose(sorted(zoomed.get_offsets()[:, 0]), [1.0, 1.02, 1.04, 1.06])
    inside = panels.priority_dots(ds, panels.state_styles(ds), [(2, "bridge")])
    assert panels.hidden_groups(inset, [d for d in inside if d.time < 2], panels.ZOOM_DOT_SIZE) == []
    assert set(labels_of(inset)) == {"label:s2"} and not labels_of(ax)


def test_state_graph_panel(graph_ds):
    ax = panels.plot_state_space(new_axes(), graph_ds)
    gids = {a.get_gid() for a in ax.get_children()}
    assert {"edges", "optimal_path", "states", "bottlenecks", "mark:S", "mark:G"} <= gids
    (edges,) = [c for c in ax.collections if c.get_gid() == "edges"]
    assert len(edges.get_segments()) == 10
    (path,) = [c for c in ax.collections if c.get_gid() == "optimal_path"]
    assert len(path.get_segments()) == 2
    (plus,) = [c for c in ax.collections if c.get_gid() == "bottlenecks"]
    assert len(plus.get_offsets()) == 3
    (nodes,) = [c for c in ax.collections if c.get_gid() == "states"]
    assert mcolors.to_hex(nodes.get_facecolors()[0]) == panels.START_COLOUR


def test_grid_panel(grid_ds):
    ax = panels.plot_state_space(new_axes(), grid_ds)
    texts = {t.get_text(): t for t in ax.texts}
    assert set(texts) == {"S", "G", "+", "W"}
    assert texts["S"].get_position() == (1, 1)
    image = ax.images[0].get_array()
    assert image.shape == (5, 7, 3)
    lightness = image.mean(axis=-1)
    # darker where occupied more: the goal cell is the darkest open cell, unvisited cells light
    open_cells = ~grid_ds.wall.values.astype(bool)
    assert lightness[3, 5] == lightness[open_cells].min()
    assert lightness[1, 5] > lightness[2, 1]


def test_edges_are_the_stored_state_graph(graph_ds):
    """Panel A draws the edges the measures store, not the neighbours it could guess
    from the layout: here two long edges that join no neighbours."""
    stored = np.array([[0, 6], [2, 4]])
    ds = graph_ds.drop_vars(["edge_source", "edge_target"])
    ds["edge_source"], ds["edge_target"] = ("edge", stored[:, 0]), ("edge", stored[:, 1])
    ax = panels.plot_state_space(new_axes(), ds)
    (edges,) = [c for c in ax.collections if c.get_gid() == "edges"]
    xy = np.column_stack([ds.layout_x.values, ds.layout_y.values])
    np.testing.assert_array_equal(np.array(edges.get_segments()), xy[stored])
    # without a stored graph there is no edge to draw
    ax = panels.plot_state_space(new_axes(), graph_ds.drop_vars(["edge_source", "edge_target"]))
    assert not [c for c in ax.collections if c.get_gid() == "edges"]


def test_graph_without_layout_uses_a_spectral_layout(graph_ds):
    ds = graph_ds.drop_vars(["layout_x", "layout_y", "cluster"])
    xy = panels.state_layout(ds)
    assert xy.shape == (7, 2) and np.isfinite(xy).all()
    assert len(np.unique(np.round(xy, 6), axis=0)) == 7
    # neighbours in the graph are placed closer than the average pair of states
    edges = panels.state_edges(ds)
    edge_length = np.linalg.norm(xy[edges[:, 0]] - xy[edges[:, 1]], axis=1).mean()
    all_pairs = np.linalg.norm(xy[:, None] - xy[None, :], axis=-1)[np.triu_indices(7, 1)].mean()
    assert edge_length < all_pairs
    ax = panels.plot_state_space(new_axes(), ds)
    assert any(c.get_gid() == "edges" for c in ax.collections)


def test_no_layout_no_edges_places_states_on_a_circle(graph_ds):
    ds = graph_ds.drop_vars(["layout_x", "layout_y", "edge_source", "edge_target"])
    np.testing.assert_allclose(np.linalg.norm(panels.state_layout(ds), axis=1), 1.0)
    ax = panels.plot_state_space(new_axes(), ds)
    (nodes,) = [c for c in ax.collections if c.get_gid() == "states"]
    np.testing.assert_allclose(np.linalg.norm(nodes.get_offsets(), axis=1), 1.0)
    assert not [c for c in ax.collections if c.get_gid() == "edges"]


def test_missing_variable_is_a_himo_error(graph_ds):
    from himo.errors import HimoError

    with pytest.raises(HimoError, match="no variable 'PD', from which PD_norm is computed"):
        panels.plot_policy_divergence(new_axes(), graph_ds.drop_vars("PD"))
