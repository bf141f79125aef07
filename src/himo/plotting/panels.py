"""The panels of the paper's figures, one function per panel (paper Figs. 1, 2, S1).

Every panel function has the form ``plot_x(ax, measures, ...) -> Axes``: it draws on
the axes it is given and does no file I/O. ``measures`` is the measures dataset of
``docs/CONTRACTS.md``::

    coords  iteration, time(iteration) [planning time], state
    PD, CD  (iteration, state), from which PD_norm, CD_norm, dPD_dt, dCD_dt,
        dPD_norm_dt and dCD_norm_dt are read (himo.measures.dataset.time_series)
    priority(state), objective(iteration), on_optimal_path(state),
    optimal_path_position(state), final_occupancy(state),
    edge_source(edge), edge_target(edge)  (the state graph)
    optional plotting metadata: layout_x, layout_y, cluster, role_<name> (state),
    cell_row, cell_col (state), wall(row, col); the attribute start_state or the
    variable start_distribution(state)

The states are read through :mod:`himo.measures.states` (roles, start, goal, the
optimal path, the state graph, the rooms), as the claims read them. Preparing the
data and drawing it are separate steps: :func:`state_styles` turns the metadata
into one colour, line style and alpha per state (the colour a state has in panel A
is the colour of its curves in panels B, C, E, F and of its priority dot in panel
D); the edges are the stored state graph, the positions the stored layout
(:func:`state_layout` places the states of an MDP without one). The panels only
draw what those return. Axis labels are read from the ``long_name`` and
``units`` attributes of the variables, never retyped.

Conventions (paper captions of Figs. 1, 2 and S1): the start's cluster is red, the
goal's cluster blue (every start state is marked ``S``; with several, the optimal
path's start, :func:`himo.measures.states.start`, picks the red cluster), other clusters neutral; bottleneck states are marked ``+`` in A
and drawn dotted (Fig. S1: short dashes); wormhole states are marked ``W`` and drawn
with long dashes; states off the optimal path are drawn partly transparent; in grid
worlds darker cells are those occupied more under the converged policy. Panel D
labels the states the paper's claims name (passed in by the figure: the panels read
no claims) and zooms where the priority dots crowd, so that no dot hides another
unnamed.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

import matplotlib.colors as mcolors
import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection

from himo.measures import states
from himo.measures.dataset import time_series
from himo.errors import HimoError
from himo.plotting.labels import spread

# ---------------------------------------------------------------- conventions
START_COLOUR = "#d62728"  #: the start's cluster (red, as in the paper)
GOAL_COLOUR = "#1f4e9c"  #: the goal's cluster (blue, as in the paper)
NEUTRAL_COLOURS = ("#8f8f8f", "#b39b6b", "#7f9f86", "#a58aa5", "#6f8fa8")  #: other clusters
NO_CLUSTER_COLOUR = "#3a3a3a"  #: states in no cluster (grid-world doorways)
WALL_COLOUR = "#4d4d4d"
EDGE_COLOUR = "#b3b3b3"
PATH_EDGE_COLOUR = "#404040"
VALUE_COLOUR = "#262626"

SOLID = "solid"
DOTTED = (0, (1.0, 1.5))  #: bottlenecks, Figs. 1 and 2
SHORT_DASHES = (0, (2.5, 1.8))  #: bottlenecks, Fig. S1
LONG_DASHES = (0, (7.0, 2.5))  #: wormhole states, Fig. S1
OFF_PATH_ALPHA = 0.3
#: Occupancy -> shade: a cell's lightness (HLS) runs from LIGHTEST (unvisited) to
#: DARKEST (the most occupied cell), keeping its room's hue.
LIGHTEST, DARKEST = 0.93, 0.3


# --------------------------------------------------------------- data access
def axis_label(var: xr.DataArray, fallback: str | None = None, width: int = 34) -> str:
    """``"name [units]"`` from a variable's attributes, wrapped to ``width`` characters.

    The name is ``short_name`` when present, else ``long_name`` without a trailing
    equation reference such as ``"(Eq. 12)"``; units that are empty, ``1`` or
    the name itself are omitted.
    """
    name = str(var.attrs.get("short_name") or var.attrs.get("long_name") or fallback or var.name)
    name = re.sub(r"\s*\((Eqs?\.|Eqn\.?)\s*[^)]*\)\s*$", "", name).strip()
    units = str(var.attrs.get("units", "")).strip()
    text = f"{name} [{units}]" if units and units not in ("1", name) else name
    return "\n".join(textwrap.wrap(text, width)) or text


# ------------------------------------------------------------- graph structure
def state_edges(measures: xr.Dataset) -> np.ndarray:
    """``(n_edges, 2)`` the state graph stored in the measures (:func:`himo.measures.states.edges`);
    no edges when the dataset has none."""
    edges = states.edges(measures)
    return np.zeros((0, 2), dtype=int) if edges is None else edges


def state_layout(measures: xr.Dataset, edges: np.ndarray | None = None) -> np.ndarray:
    """``(n_states, 2)`` positions: the stored layout, else a spectral layout of the
    state graph (eigenvectors 2 and 3 of its Laplacian), else a circle."""
    n = measures.sizes["state"]
    if "layout_x" in measures and "layout_y" in measures:
        return np.column_stack([measures["layout_x"].values, measures["layout_y"].values]).astype(float)
    if edges is None:
        edges = state_edges(measures)
    if len(edges) and n > 2:
        adjacency = np.zeros((n, n))
        adjacency[edges[:, 0], edges[:, 1]] = adjacency[edges[:, 1], edges[:, 0]] = 1.0
        laplacian = np.diag(adjacency.sum(1)) - adjacency
        _, vectors = np.linalg.eigh(laplacian)
        xy = vectors[:, 1:3].copy()
        signs = np.sign(xy[np.argmax(np.abs(xy), axis=0), [0, 1]])  # fix the eigenvector signs
        return xy * np.where(signs == 0, 1, signs)
    angle = np.pi / 2 - 2 * np.pi * np.arange(n) / max(n, 1)
    return np.column_stack([np.cos(angle), np.sin(angle)])


def state_clusters(measures: xr.Dataset) -> np.ndarray:
    """One cluster id per state, -1 for none: the groups coloured alike.

    The stored ``cluster`` when present (Hanoi: the peg of the largest disk); else,
    in a grid world, the rooms (:func:`himo.measures.states.rooms`; the doorways get
    -1); else no clusters.
    """
    if "cluster" in measures:
        return np.asarray(measures["cluster"].values).astype(int)
    rooms = states.rooms(measures)
    return np.full(measures.sizes["state"], -1) if rooms is None else rooms


# ------------------------------------------------------------------- styles
@dataclass(frozen=True)
class StateStyles:
    """How each state is drawn, by state index: the data-preparation step of a figure."""

    colour: tuple[str, ...]
    linestyle: tuple
    alpha: np.ndarray
    on_path: np.ndarray
    cluster: np.ndarray
    edges: np.ndarray
    layout: np.ndarray

    def order(self) -> np.ndarray:
        """Drawing order: off-path states first, then on-path; bottlenecks and
        wormhole states on top within each group (stable in state order)."""
        special = np.array([ls != SOLID for ls in self.linestyle])
        return np.lexsort((special, self.on_path))


def cluster_colours(clusters: np.ndarray, start: int | None, goal: int | None) -> dict[int, str]:
    """Start's cluster red, goal's cluster blue, the rest neutral in id order."""
    colours: dict[int, str] = {-1: NO_CLUSTER_COLOUR}
    if start is not None and clusters[start] >= 0:
        colours[int(clusters[start])] = START_COLOUR
    if goal is not None and clusters[goal] >= 0:
        colours[int(clusters[goal])] = GOAL_COLOUR
    others = [c for c in np.unique(clusters) if int(c) not in colours]
    for k, c in enumerate(others):
        colours[int(c)] = NEUTRAL_COLOURS[k % len(NEUTRAL_COLOURS)]
    return colours


def state_styles(
    measures: xr.Dataset,
    bottleneck_style=DOTTED,
    wormhole_style=LONG_DASHES,
    off_path_alpha: float = OFF_PATH_ALPHA,
) -> StateStyles:
    """Colour, line style and alpha of every state, from the dataset's metadata.

    Without clusters the start states are red, the goal blue and the rest neutral
    grey; with clusters, the cluster of the optimal path's start is red. Wormhole states take ``wormhole_style`` even when they are also bottlenecks.
    """
    n = measures.sizes["state"]
    edges = state_edges(measures)
    clusters = state_clusters(measures)
    start, goal = states.start(measures), states.goal(measures)
    palette = cluster_colours(clusters, start, goal)
    colour = [palette[int(c)] for c in clusters]
    if (clusters < 0).all():
        colour = [NEUTRAL_COLOURS[0]] * n
    for i in states.start_states(measures):
        if clusters[i] < 0:
            colour[i] = START_COLOUR
    if goal is not None and clusters[goal] < 0:
        colour[goal] = GOAL_COLOUR
    bottleneck, wormhole = states.role(measures, "bottleneck"), wormhole_states(measures)
    linestyle = [wormhole_style if w else bottleneck_style if b else SOLID for b, w in zip(bottleneck, wormhole)]
    path = states.on_path(measures)
    return StateStyles(
        colour=tuple(colour),
        linestyle=tuple(linestyle),
        alpha=np.where(path, 1.0, off_path_alpha),
        on_path=path,
        cluster=clusters,
        edges=edges,
        layout=state_layout(measures, edges),
    )


def occupancy_shade(measures: xr.Dataset) -> np.ndarray:
    """Per state in [0, 1]: sqrt of final occupancy over its maximum (0 when absent)."""
    if "final_occupancy" not in measures:
        return np.zeros(measures.sizes["state"])
    occ = np.clip(np.nan_to_num(np.asarray(measures["final_occupancy"].values, dtype=float)), 0, None)
    return np.sqrt(occ / occ.max()) if occ.max() > 0 else np.zeros_like(occ)


def tint(colour: str, level: float) -> np.ndarray:
    """``colour``'s hue and saturation at a lightness from LIGHTEST (level 0) to DARKEST (1)."""
    import colorsys

    hue, _, saturation = colorsys.rgb_to_hls(*mcolors.to_rgb(colour))
    return np.array(colorsys.hls_to_rgb(hue, LIGHTEST + (DARKEST - LIGHTEST) * float(level), saturation))


def wormhole_states(measures: xr.Dataset) -> np.ndarray:
    """Mask of the wormhole's states (roles ``wormhole``, ``wormhole_entrance``, ``wormhole_exit``)."""
    return (states.role(measures, "wormhole") | states.role(measures, "wormhole_entrance")
            | states.role(measures, "wormhole_exit"))


# ------------------------------------------------------------------ panel A
def plot_state_space(ax: Axes, measures: xr.Dataset, styles: StateStyles | None = None) -> Axes:
    """Panel A: the grid world (when the dataset has cells and walls) or the state graph."""
    if states.is_grid(measures):
        return plot_grid_world(ax, measures, styles)
    return plot_state_graph(ax, measures, styles)


def plot_state_graph(ax: Axes, measures: xr.Dataset, styles: StateStyles | None = None) -> Axes:
    """Panel A for a graph (Fig. 1A): states at their layout, edges, the optimal path
    drawn heavier, nodes in cluster colours, S and G labelled, bottlenecks ``+``."""
    styles = styles or state_styles(measures)
    xy, edges = styles.layout, styles.edges
    n = len(xy)
    span = float(np.ptp(xy, axis=0).max()) or 1.0
    if len(edges):
        ax.add_collection(LineCollection(xy[edges], colors=EDGE_COLOUR, linewidths=0.7, zorder=1, gid="edges"))
    path = states.optimal_path(measures)
    edge_set = {tuple(e) for e in edges.tolist()}
    steps = [tuple(sorted(p)) for p in zip(path[:-1], path[1:])]
    steps = [s for s in steps if s in edge_set or not edge_set]
    if steps:
        ax.add_collection(LineCollection(xy[np.array(steps)], colors=PATH_EDGE_COLOUR, linewidths=1.8,
                                         zorder=1.5, gid="optimal_path"))
    size = float(np.clip(2200.0 / max(n, 1), 6.0, 70.0))
    ax.scatter(xy[:, 0], xy[:, 1], s=size, c=list(styles.colour), edgecolors="white", linewidths=0.4,
               zorder=2, gid="states")
    bottleneck = states.role(measures, "bottleneck")
    if bottleneck.any():
        ax.scatter(xy[bottleneck, 0], xy[bottleneck, 1], s=size * 1.6, marker="+", c="black",
                   linewidths=0.9, zorder=3, gid="bottlenecks")
    centre = xy.mean(axis=0)
    marks = [(int(i), "S") for i in states.start_states(measures)] + [(states.goal(measures), "G")]
    marks += [(int(i), "W") for i in np.flatnonzero(states.role(measures, "wormhole"))]
    for i, text in marks:
        if i is None:
            continue
        away = xy[i] - centre
        away = away / (np.linalg.norm(away) or 1.0)
        ax.annotate(text, xy[i], xytext=xy[i] + away * 0.07 * span, ha="center", va="center",
                    fontweight="bold", fontsize="medium", color=styles.colour[i], zorder=4, gid=f"mark:{text}")
    pad = 0.1 * span
    ax.set_xlim(xy[:, 0].min() - pad, xy[:, 0].max() + pad)
    ax.set_ylim(xy[:, 1].min() - pad, xy[:, 1].max() + pad)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return ax


def plot_grid_world(ax: Axes, measures: xr.Dataset, styles: StateStyles | None = None) -> Axes:
    """Panel A for a grid world (Figs. 2A, S1A): walls, cells tinted in their room's
    colour and darker where the converged policy occupies them more; S, G, doorways
    ``+`` and wormhole cells ``W``."""
    styles = styles or state_styles(measures)
    walls = np.asarray(measures["wall"].values).astype(bool)
    rows = np.asarray(measures["cell_row"].values).astype(int)
    cols = np.asarray(measures["cell_col"].values).astype(int)
    image = np.ones(walls.shape + (3,))
    image[walls] = mcolors.to_rgb(WALL_COLOUR)
    shade = occupancy_shade(measures)
    for i, (r, c) in enumerate(zip(rows, cols)):
        image[r, c] = tint(styles.colour[i], shade[i])
    ax.imshow(image, interpolation="nearest", origin="upper", gid="cells")
    n_rows, n_cols = walls.shape
    ax.hlines(np.arange(n_rows + 1) - 0.5, -0.5, n_cols - 0.5, colors="white", linewidths=0.3)
    ax.vlines(np.arange(n_cols + 1) - 0.5, -0.5, n_rows - 0.5, colors="white", linewidths=0.3)
    marks: dict[int, list[str]] = {}
    for i in np.flatnonzero(states.role(measures, "bottleneck")):
        marks.setdefault(int(i), []).append("+")
    for i in np.flatnonzero(states.role(measures, "wormhole")):
        marks.setdefault(int(i), []).append("W")
    goal = states.goal(measures)
    if goal is not None:
        marks.setdefault(goal, []).insert(0, "G")
    for i in states.start_states(measures):
        marks.setdefault(int(i), []).insert(0, "S")
    for i, texts in sorted(marks.items()):
        dark = np.dot(image[rows[i], cols[i]], [0.299, 0.587, 0.114]) < 0.5
        ax.text(cols[i], rows[i], "".join(texts), ha="center", va="center", fontweight="bold",
                fontsize="small", color="white" if dark else "black", gid=f"mark:{''.join(texts)}")
    ax.set_xlim(-0.5, n_cols - 0.5)
    ax.set_ylim(n_rows - 0.5, -0.5)
    ax.set_axis_off()
    return ax


# --------------------------------------------------------- panels B, C, E, F
def plot_state_curves(ax: Axes, measures: xr.Dataset, variable: str, styles: StateStyles | None = None,
                      t_max: float | None = None) -> Axes:
    """One curve of ``variable(iteration, state)`` against planning time per state,
    in the state's colour and line style, off-path states partly transparent. Each
    line carries ``gid="state:<label>"``."""
    curves = time_series(measures, variable)
    styles = styles or state_styles(measures)
    time = np.asarray(measures["time"].values, dtype=float)
    values = np.asarray(curves.values, dtype=float)
    labels = [str(s) for s in measures["state"].values]
    for i in styles.order():
        ax.plot(time, values[:, i], color=styles.colour[i], linestyle=styles.linestyle[i],
                alpha=float(styles.alpha[i]), zorder=2 + styles.on_path[i], gid=f"state:{labels[i]}")
    if np.nanmin(values) < 0 < np.nanmax(values):
        ax.axhline(0.0, color="0.6", linewidth=0.5, zorder=1, gid="zero")
    ax.set_xlabel(axis_label(measures["time"], "planning time"))
    ax.set_ylabel(axis_label(curves))
    ax.set_xlim(time[0], t_max if t_max is not None else time[-1])
    return ax


def _measure(name: str, normalized: bool, derivative: bool) -> str:
    base = f"{name}_norm" if normalized else name
    return f"d{base}_dt" if derivative else base


def plot_policy_divergence(ax: Axes, measures: xr.Dataset, normalized: bool = True,
                           styles: StateStyles | None = None, t_max: float | None = None) -> Axes:
    """Panel B: PD~ (Eq. 14, ``normalized``) or PD (Eq. 12) per state."""
    return plot_state_curves(ax, measures, _measure("PD", normalized, False), styles, t_max)


def plot_policy_divergence_rate(ax: Axes, measures: xr.Dataset, normalized: bool = True,
                                styles: StateStyles | None = None, t_max: float | None = None) -> Axes:
    """Panel C: d PD~/dt or d PD/dt per state (its peak is the state's priority)."""
    return plot_state_curves(ax, measures, _measure("PD", normalized, True), styles, t_max)


def plot_counter_difference(ax: Axes, measures: xr.Dataset, normalized: bool = True,
                            styles: StateStyles | None = None, t_max: float | None = None) -> Axes:
    """Panel E: CD~ (Eq. 14, ``normalized``) or CD (Eq. 13) per state."""
    return plot_state_curves(ax, measures, _measure("CD", normalized, False), styles, t_max)


def plot_counter_difference_rate(ax: Axes, measures: xr.Dataset, normalized: bool = True,
                                 styles: StateStyles | None = None, t_max: float | None = None) -> Axes:
    """Panel F: d CD~/dt or d CD/dt per state."""
    return plot_state_curves(ax, measures, _measure("CD", normalized, True), styles, t_max)


# ------------------------------------------------------------------ panel D
#: Panel D's priority dots: their area (points^2) in the panel and in its zoom. Two dots
#: closer than a diameter (the square root of the area) hide each other.
DOT_SIZE, ZOOM_DOT_SIZE = 16.0, 9.0
#: A zoom is drawn when at least this many dots hide each other in one chain.
ZOOM_MIN_DOTS = 3
#: Where the zoom sits in panel D (axes fractions: left, bottom, width, height), below
#: the value curve, which rises early and then stays near its optimum.
ZOOM_BOUNDS = (0.3, 0.05, 0.68, 0.58)
#: The labels of the claimed states and of dots that hide each other: font size
#: (points), and how far right of and below their dot they start (points) before they
#: are moved apart (mirrored for a label set above and left).
LABEL_SIZE = 5.0
LABEL_OFFSET = (8.0, -8.0)


@dataclass(frozen=True)
class PriorityDot:
    """A state's priority dot in panel D: where it sits, how it is drawn and named."""

    state: int
    label: str
    time: float
    value: float
    colour: str
    on_path: bool
    role: str  # the role a claim names it by ("bridge", "entry doorway", ...), "" for none


def plot_value(ax: Axes, measures: xr.Dataset, styles: StateStyles | None = None,
               t_max: float | None = None, claimed=()) -> Axes:
    """Panel D: policy value R(A_t) against planning time, with each on-path state's
    priority (the time its PD velocity peaks) dotted on the curve in its colour.
    S and G are labelled beside their dots; the optimum is a thin dashed line.

    ``claimed`` (``[(state, role)]``: the states the paper's claims name, e.g.
    :func:`himo.verdicts.judging.claimed_states`) are labelled by name in bold, with a
    leader line, the labels moved apart (:func:`himo.plotting.labels.spread`); a claimed
    state off the path gets a hollow dot. Where the dots crowd so that
    :data:`ZOOM_MIN_DOTS` or more hide each other (near the goal, where the value is still
    flat), a zoom of that stretch of the curve is inset (the value on a log scale when it
    spans a decade or more there), with the labels of the states in it; any dots that
    still hide each other get one label naming them all."""
    styles = styles or state_styles(measures)
    time = np.asarray(measures["time"].values, dtype=float)
    value = np.asarray(measures["objective"].values, dtype=float)
    ax.plot(time, value, color=VALUE_COLOUR, linewidth=1.1, zorder=2, gid="value")
    optimum = measures.attrs.get("optimal_objective")
    if optimum is not None and np.isfinite(float(optimum)):
        ax.axhline(float(optimum), color="0.6", linewidth=0.6, linestyle=(0, (4, 2)), zorder=1, gid="optimum")
    ax.set_xlabel(axis_label(measures["time"], "planning time"))
    ax.set_ylabel(axis_label(measures["objective"]))
    ax.set_xlim(time[0], t_max if t_max is not None else time[-1])
    if "priority" not in measures:
        return ax
    dots = priority_dots(measures, styles, claimed)
    _draw_dots(ax, dots, DOT_SIZE, gid="priorities")
    names = {int(i): "S" for i in states.start_states(measures)} | {states.goal(measures): "G"}
    for dot in dots:
        if dot.state in names:
            ax.annotate(names[dot.state], (dot.time, dot.value), xytext=(3, -9), textcoords="offset points",
                        fontweight="bold", fontsize="small", color=dot.colour, gid=f"mark:{names[dot.state]}")
    ax.get_ylim()  # the limits, now that everything is drawn: the dots' places in points depend on them
    crowded = hidden_groups(ax, dots, DOT_SIZE)
    if max((len(group) for group in crowded), default=0) >= ZOOM_MIN_DOTS:
        inset = _zoom(ax, time, value, dots, [dot for group in crowded for dot in group])
        low, high = inset.get_xlim()
        inside = [dot for dot in dots if low <= dot.time <= high]
        _label_dots(inset, inside, hidden_groups(inset, inside, ZOOM_DOT_SIZE))
        dots = [dot for dot in dots if dot not in inside]  # labelled in the zoom only
        crowded = [group for group in crowded if all(dot in dots for dot in group)]
    _label_dots(ax, dots, crowded)
    return ax


def priority_dots(measures: xr.Dataset, styles: StateStyles, claimed=()) -> list[PriorityDot]:
    """The dots of panel D: every on-path state with a priority and every claimed state
    with one (off the path too), latest first (so that the earliest is drawn on top)."""
    time = np.asarray(measures["time"].values, dtype=float)
    value = np.asarray(measures["objective"].values, dtype=float)
    priority = np.asarray(measures["priority"].values, dtype=float)
    roles = {int(state): role for state, role in claimed}
    shown = [int(i) for i in np.flatnonzero(np.isfinite(priority)) if styles.on_path[i] or int(i) in roles]
    shown.sort(key=lambda i: (-priority[i], i))
    labels = states.labels(measures)
    return [PriorityDot(i, labels[i], float(priority[i]), float(np.interp(priority[i], time, value)),
                        styles.colour[i], bool(styles.on_path[i]), roles.get(i, "")) for i in shown]


def _draw_dots(ax: Axes, dots: list[PriorityDot], size: float, gid: str) -> None:
    """The dots on the path filled, the claimed states off it hollow."""
    filled = [d for d in dots if d.on_path]
    hollow = [d for d in dots if not d.on_path]
    if filled:
        ax.scatter([d.time for d in filled], [d.value for d in filled], s=size, c=[d.colour for d in filled],
                   edgecolors="black", linewidths=0.4, zorder=3, gid=gid)
    if hollow:
        ax.scatter([d.time for d in hollow], [d.value for d in hollow], s=size, facecolors="white",
                   edgecolors=[d.colour for d in hollow], linewidths=0.9, zorder=3, gid=f"{gid}:off path")


def _in_points(ax: Axes, dots: list[PriorityDot]) -> np.ndarray:
    """``(n, 2)`` the dots' places in ``ax``, in points (with the axes' size before the
    figure's layout: close enough to tell dots that hide each other)."""
    xy = np.array([[d.time, d.value] for d in dots], dtype=float).reshape(-1, 2)
    return ax.transData.transform(xy) * 72.0 / ax.figure.dpi


def hidden_groups(ax: Axes, dots: list[PriorityDot], size: float) -> list[list[PriorityDot]]:
    """The dots (of area ``size``) that hide each other in ``ax``: chains of dots, in time
    order, each closer than a diameter to the one before; groups of two or more."""
    ordered = sorted(dots, key=lambda d: (d.time, d.state))
    where = _in_points(ax, ordered)
    groups: list[list[PriorityDot]] = []
    for k, dot in enumerate(ordered):
        if k and np.hypot(*(where[k] - where[k - 1])) < np.sqrt(size):
            groups[-1].append(dot)
        else:
            groups.append([dot])
    return [group for group in groups if len(group) > 1]


def _zoom(ax: Axes, time: np.ndarray, value: np.ndarray, dots: list[PriorityDot],
          crowded: list[PriorityDot]) -> Axes:
    """The inset zoom on the stretch of the curve where ``crowded`` lie, with every dot
    in it; marked on the panel."""
    low, high = min(d.time for d in crowded), max(d.time for d in crowded)
    pad = 0.06 * (high - low)
    low, high = low - pad, high + pad
    inset = ax.inset_axes(ZOOM_BOUNDS, gid="zoom")
    window = (time >= low) & (time <= high)
    inset.plot(time, value, color=VALUE_COLOUR, linewidth=0.9, zorder=2)
    inside = [d for d in dots if low <= d.time <= high]
    _draw_dots(inset, inside, ZOOM_DOT_SIZE, gid="zoom priorities")
    shown = np.concatenate([value[window], [d.value for d in inside]])
    inset.set_xlim(low, high)
    if shown.min() > 0 and shown.max() >= 10 * shown.min():
        inset.set_yscale("log")
        inset.set_ylim(shown.min() / 1.6, shown.max() * 1.6)
    else:
        margin = 0.08 * (np.ptp(shown) or abs(shown.max()) or 1.0)
        inset.set_ylim(shown.min() - margin, shown.max() + margin)
    inset.tick_params(labelsize=4.5, length=1.5, pad=1)
    for side in ("top", "right"):
        inset.spines[side].set_visible(True)
    inset.set_facecolor("white")
    ax.indicate_inset_zoom(inset, edgecolor="0.5", linewidth=0.5, alpha=0.8)
    return inset


def _label_dots(ax: Axes, dots: list[PriorityDot], hidden: list[list[PriorityDot]]) -> None:
    """Labels beside their dots, each joined to its dot by a leader: one per group of
    dots that hide each other, naming them all, and one per other claimed state; a
    label naming a claimed state is bold. A label sits below and right of its dot
    (below the rising value curve), or above and left where it would leave the axes on
    the right; the labels of each side are moved apart vertically
    (:func:`himo.plotting.labels.spread`)."""
    grouped = {dot for group in hidden for dot in group}
    labelled = [sorted(group, key=lambda d: (d.time, d.state)) for group in hidden]
    labelled += [[dot] for dot in dots if dot.role and dot not in grouped]
    if not labelled:
        return
    where = _in_points(ax, [group[0] for group in labelled])  # each label's anchor: the earliest of its dots
    box = ax.get_window_extent().get_points() * 72.0 / ax.figure.dpi  # the axes, in points
    texts = [", ".join(dot.label for dot in group) for group in labelled]
    right = [x + LABEL_OFFSET[0] + _text_width(text) <= box[1, 0] for (x, _), text in zip(where, texts)]
    gap = 1.3 * LABEL_SIZE
    heights = np.empty(len(labelled))
    for side, offset in ((True, LABEL_OFFSET[1]), (False, -LABEL_OFFSET[1])):
        mine = [k for k, r in enumerate(right) if r == side]
        if mine:
            heights[mine] = spread(where[mine, 1] + offset, gap, low=box[0, 1] + gap / 2, high=box[1, 1] - gap / 2)
    for group, text, (x, y), height, on_right in zip(labelled, texts, where, heights, right):
        claimed = any(dot.role for dot in group)
        across = LABEL_OFFSET[0] if on_right else -LABEL_OFFSET[0]
        label = ax.annotate(
            text, (group[0].time, group[0].value), xytext=(across, height - y),
            textcoords="offset points", ha="left" if on_right else "right", va="center", fontsize=LABEL_SIZE,
            fontweight="bold" if claimed else "normal", color="0.1" if claimed else "0.35", zorder=5,
            gid="label:" + " ".join(dot.label for dot in group),
            arrowprops=dict(arrowstyle="-", color="0.35", linewidth=0.4, shrinkA=0, shrinkB=2))
        label.set_in_layout(False)  # the panels keep the paper's layout


def _text_width(text: str) -> float:
    """About how wide ``text`` is at :data:`LABEL_SIZE`, in points (bold DejaVu Sans
    averages 0.62 of the font size per character)."""
    return 0.62 * LABEL_SIZE * len(text)
