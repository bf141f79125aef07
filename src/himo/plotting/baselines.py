"""The baselines figure: HIMO's priority order against first-order flows and dynamic programming.

::

    A  Tower of Hanoi    B  four rooms    C  wormhole      (one order panel each)
    D  Kendall tau against the DP order, as a function of the foresight

Panels A-C (:func:`plot_order_panel`) show, for one paper environment at its main
run's foresight, one column per method: the DP order (the sweep at which value
iteration settles the state), HIMO (the natural step), the first-order path
gradient, the softmax policy gradient and Kakade's natural gradient. Rows are the
steps to the goal (start at the top, goal at the bottom), named by the main run's
optimal path; each method is read on its *own* optimal path (where shortest routes
tie, a run may take another: its state at that step is written in italics under the
rank). A cell holds the rank of that state among its path's priorities (1 + the
number of them that precede it: what the run's ``kendall_tau_dp`` compares), coloured
by rank; equal numbers are ties, and a cell whose state is tied with another of its
path (the priorities closer than the widest time-grid spacing between them, or one
time but for round-off; ties do not chain, so a tie may also be with a neighbour of
another rank: himo.measures.orders) is hatched. Each column is headed by its method
and Kendall's tau-b against the DP order (DP: "by sweep"). A run that has not escaped its plateau (its objective below
:data:`himo.verdicts.baselines.REACHED_FRACTION` of the way to the optimum) is greyed
and headed "not escaped", and a family without a run at that foresight is marked
"no run".

Panel D (:func:`plot_tau_panel`) has one line per method (colour) and environment
(marker and line style) of Kendall's tau-b against the foresight, the wider lines
under the narrower; runs without an
order sit on two rows below the axis: "all tied" (every on-path priority within the
resolution, tau NaN) and "not escaped" (hollow markers).

The data come from the runs' measures through :mod:`himo.verdicts.baselines`
(:func:`~himo.verdicts.baselines.order_table`,
:func:`~himo.verdicts.baselines.comparison_table`), which selects the runs by their
attributes (``paper_env``, ``method``, ``foresight``). Written deterministically by
:func:`himo.plotting.figures.save_figure`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib
import numpy as np
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from himo.verdicts import baselines as compared
from himo.measures import states
from himo.errors import HimoError
from himo.plotting.figures import TEXT_WIDTH, house_style

FIGSIZE = (TEXT_WIDTH, 6.4)  # inches
#: Rank colours: the first rank lightest, the last darkest.
RANK_CMAP = "YlGnBu"
RANK_SHADES = (0.08, 0.92)
NOT_REACHED_COLOUR = "0.85"
#: Panel D: one colour per method family, one marker and line style per environment.
FAMILY_COLOURS = {"HIMO": "0.15", "gradient": "#d62728", "softmax": "#1f77b4", "kakade": "#2ca02c"}
#: Wider lines under narrower ones, so that lines on top of each other stay visible.
FAMILY_LINEWIDTHS = {"HIMO": 0.9, "gradient": 2.0, "softmax": 0.9, "kakade": 2.4}
FAMILY_MARKER_SIZES = {"HIMO": 3.2, "gradient": 5.0, "softmax": 3.2, "kakade": 5.5}
ENV_MARKERS = ("o", "s", "^", "D", "v")
ENV_LINESTYLES = ("solid", (0, (4.0, 1.5)), (0, (1.0, 1.2)), "dashdot", (0, (6.0, 1.5, 1.0, 1.5)))
#: Where panel D draws a run whose on-path priorities are all tied (tau NaN), and a
#: run that has not escaped its plateau (whatever its tau).
ALL_TIED_Y = -1.3
NOT_ESCAPED_Y = -1.6
COLUMN_TITLES = {"DP": "DP", "HIMO": "HIMO", "gradient": "gradient", "softmax": "softmax", "kakade": "Kakade"}
#: Cells whose state is tied with another of its path are hatched.
TIE_HATCH = "//////"
TIE_HATCH_ALPHA = 0.45  # of the cell's ink: black on light cells, white on dark ones
#: What the numbers of panels A-C are, under each panel.
ORDER_PANEL_NOTE = ("rank on each run's own optimal path (1 = first);\nhatched: tied with another state of it;\n"
                    "italic: its path's state where not the row's")
#: What the figure reads from each measures dataset (docs/CONTRACTS.md), besides the roles.
REQUIRED = ("objective", "priority", "optimal_path_position", "dp_priority", "kendall_tau_dp", "kendall_tau_dp_half",
            "kendall_tau_gap", "kendall_tau_prior")


def baselines_figure(runs: Sequence[xr.Dataset]) -> Figure:
    """Panels A-C (one per paper environment) and D, from the runs' measures."""
    environments = compared.paper_environments(runs)
    tables = [compared.order_table(runs, env) for env in environments]
    rows = compared.comparison_table(runs)
    n_panels = max(len(tables), 1)
    heights = [max((t.states.size for t in tables), default=1), 1]
    with house_style():
        fig = Figure(figsize=FIGSIZE, layout="constrained")
        grid = fig.add_gridspec(2, n_panels, height_ratios=[2.3, 1.0])
        letters = iter("ABCDEFGH")
        for k, table in enumerate(tables):
            ax = fig.add_subplot(grid[0, k])
            plot_order_panel(ax, table, n_rows=heights[0])
            ax.set_title(f"{next(letters)}  {table.paper_env}, λ = {table.foresight:g}", loc="left")
            if k == 0:  # what the numbers are, once
                ax.set_xlabel(ORDER_PANEL_NOTE, fontsize=5.0, labelpad=3, loc="left")
        if not tables:
            next(letters)
        ax = fig.add_subplot(grid[1, :])
        plot_tau_panel(ax, rows, environments)
        ax.set_title(f"{next(letters)}  rank agreement with the DP order", loc="left")
    return fig


def rank_shades(ranks: np.ndarray) -> np.ndarray:
    """Each rank's position in :data:`RANK_SHADES` (first rank lightest); NaN for -1."""
    ranks = np.asarray(ranks, dtype=float)
    top = np.nanmax(np.where(ranks >= 0, ranks, np.nan)) if (ranks >= 0).any() else 0.0
    low, high = RANK_SHADES
    shade = low + (high - low) * (ranks / top if top > 0 else np.zeros_like(ranks))
    return np.where(ranks >= 0, shade, np.nan)


def row_label(ds: xr.Dataset, state: int) -> str:
    """A state's label with its marks: S start, G goal, + bottleneck, W wormhole."""
    marks = [text for role, text in (("start", "S"), ("goal", "G"), ("bottleneck", "+"), ("wormhole", "W"))
             if states.role(ds, role)[state]]
    label = states.labels(ds)[state]
    return f"{label} {''.join(marks)}" if marks else label


def plot_order_panel(ax: Axes, table: compared.OrderTable, n_rows: int | None = None) -> Axes:
    """One environment's orders: a column per method, a row per step to the goal (start
    at the top, goal at the bottom). A cell holds the rank (1 = first) of the state the
    method's own optimal path passes at that step, coloured by rank; where that state
    is not the main run's (the row's label), its name is written under the rank; a cell
    whose state is tied with another of its path by the rule is hatched (equal numbers
    are tied; a state may also be tied with one of a neighbouring rank). Each column is
    headed by its method and Kendall's tau against the DP order. ``n_rows`` pads the
    panel to that many rows, so that panels side by side share a row height."""
    cmap = matplotlib.colormaps[RANK_CMAP]
    n, m = table.states.size, len(table.columns)
    labels = states.labels(table.main)
    for j, column in enumerate(table.columns):
        if column.ranks is None:
            ax.text(j, (n - 1) / 2, "no run", rotation=90, ha="center", va="center", color="0.4",
                    fontsize="small", gid=f"missing:{column.name}")
            continue
        shades = rank_shades(column.ranks)
        for i in range(n):
            if np.isnan(shades[i]):
                colour, text = "white", "–"
            else:
                colour = NOT_REACHED_COLOUR if not column.reached else cmap(shades[i])
                text = str(column.ranks[i] + 1)
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor=colour, edgecolor="white", linewidth=0.6,
                                   gid=f"cell:{column.name}:{i}"))
            dark = np.dot(matplotlib.colors.to_rgb(colour), [0.299, 0.587, 0.114]) < 0.5
            ink = "white" if dark else "black"
            if column.tied[i]:
                hatch = Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch=TIE_HATCH, linewidth=0,
                                  edgecolor=matplotlib.colors.to_rgba(ink, TIE_HATCH_ALPHA), gid=f"tied:{column.name}:{i}")
                hatch.set_hatch_linewidth(0.4)
                ax.add_patch(hatch)
            own = int(column.states[i])
            if own >= 0 and own != table.states[i]:  # its own path passes another state here
                ax.text(j, i - 0.12, text, ha="center", va="center", fontsize=5.0, color=ink, gid="rank")
                ax.text(j, i + 0.27, labels[own], ha="center", va="center", fontsize=3.4, fontstyle="italic",
                        color=ink, gid=f"own:{column.name}:{i}")
            else:
                ax.text(j, i, text, ha="center", va="center", fontsize=5.5, color=ink, gid="rank")
    ax.set_xlim(-0.5, m - 0.5)
    ax.set_ylim((n_rows or n) - 0.5, -0.5)
    ax.set_xticks(range(m), [f"{COLUMN_TITLES.get(c.name, c.name)}\n{_header_detail(c)}" for c in table.columns],
                  rotation=90, va="bottom", ha="center", multialignment="left")
    ax.xaxis.tick_top()
    ax.tick_params(axis="x", length=0, labelsize=5.5, pad=2)
    ax.set_yticks(range(n), [row_label(table.main, s) if s >= 0 else "" for s in table.states])
    ax.tick_params(axis="y", length=0, labelsize=5.5)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    return ax


def _header_detail(column: compared.OrderColumn) -> str:
    """The second line of a column's header: what orders it (DP: the sweeps) and its
    tau against the DP order, or why it has none."""
    if column.name == "DP":
        return "by sweep"
    if column.ranks is None:
        return ""
    if not column.reached:
        return "not escaped"
    return "τ: all tied" if np.isnan(column.tau) else f"τ = {column.tau:.2f}"


def plot_tau_panel(ax: Axes, rows: Sequence[dict], environments: Sequence[str]) -> Axes:
    """Kendall's tau-b against the DP order over the foresight: one line per method
    family (colour) and environment (marker, line style). Two rows below the axis
    hold the runs without an order: "all tied" (tau NaN, every on-path priority
    tied) and "not escaped" (hollow markers: the run had not left its plateau, so
    its tau is not the flow's, whatever it is)."""
    for e, env in enumerate(environments):
        for family, colour in FAMILY_COLOURS.items():
            mine = [r for r in rows if r["paper_env"] == env and r["family"] == family]
            if not mine:
                continue
            x = np.array([r["foresight"] for r in mine])
            reached = reached_of(mine)
            tau = np.where(reached, [r["kendall_tau_dp"] for r in mine], np.nan)  # lines join escaped runs only
            marker = ENV_MARKERS[e % len(ENV_MARKERS)]
            ax.plot(x, tau, color=colour, linestyle=ENV_LINESTYLES[e % len(ENV_LINESTYLES)],
                    linewidth=FAMILY_LINEWIDTHS[family], zorder=_under(family), gid=f"tau:{env}:{family}")
            y = np.where(~reached, NOT_ESCAPED_Y, np.where(np.isnan(tau), ALL_TIED_Y, tau))
            for filled in (True, False):
                keep = reached == filled
                if keep.any():
                    ax.plot(x[keep], y[keep], linestyle="none", marker=marker, markersize=FAMILY_MARKER_SIZES[family],
                            color=colour, markerfacecolor=colour if filled else "white", markeredgewidth=0.7,
                            zorder=_under(family))
    ax.axhline(0.0, color="0.8", linewidth=0.5, zorder=0)
    ax.set_ylim(NOT_ESCAPED_Y - 0.2, 1.1)
    ax.set_yticks([NOT_ESCAPED_Y, ALL_TIED_Y, -1, -0.5, 0, 0.5, 1],
                  ["not escaped", "all tied", "-1", "-0.5", "0", "0.5", "1"])
    ax.set_xlabel("foresight λ")
    ax.set_ylabel("Kendall τ-b vs DP order")
    ax.legend(handles=_tau_legend(rows, environments), loc="center left", bbox_to_anchor=(1.0, 0.5))
    return ax


def _under(family: str) -> float:
    """The drawing order of a family's lines and markers: the wider below the narrower,
    so that a thin line on a wide one (HIMO on Kakade's, which agree) stays visible."""
    return 2.0 + 1.0 / FAMILY_LINEWIDTHS[family]


def reached_of(rows: Sequence[dict]) -> np.ndarray:
    """Whether each row's run escaped its plateau (REACHED_FRACTION of the way to the optimum)."""
    return np.array([r["reached_fraction"] >= compared.REACHED_FRACTION for r in rows], dtype=bool)


def _tau_legend(rows: Sequence[dict], environments: Sequence[str]) -> list[Line2D]:
    """Legend entries: the method families' colours, the environments' markers and line styles."""
    families = [f for f in FAMILY_COLOURS if any(r["family"] == f for r in rows)]
    handles = [Line2D([], [], color=FAMILY_COLOURS[f], linewidth=FAMILY_LINEWIDTHS[f], label=f) for f in families]
    handles += [Line2D([], [], color="0.45", marker=ENV_MARKERS[e % len(ENV_MARKERS)], markersize=3.2,
                       linestyle=ENV_LINESTYLES[e % len(ENV_LINESTYLES)], label=env)
                for e, env in enumerate(environments)]
    return handles


def read_measures(path: str, required: Sequence[str] = REQUIRED, optional: Sequence[str] = ()) -> xr.Dataset:
    """The variables of a measures file that a cross-run figure reads: ``required``
    (default: this figure's :data:`REQUIRED`), those of ``optional`` the file has, and
    the roles, with every attribute; the (iteration, state) measures stay on disk."""
    from himo.io import read_netcdf

    if not Path(path).is_file():
        read_netcdf(path, "measures")  # the error for a missing file
    try:
        with xr.open_dataset(path, engine="netcdf4") as opened:
            missing = [name for name in required if name not in opened.variables]
            if missing:
                raise HimoError(f"{path}: the measures dataset misses {', '.join(missing)} "
                                "(see docs/CONTRACTS.md, 'Measures dataset'; rerun 'himo measures')")
            present = [name for name in optional if name in opened.variables and name not in required]
            roles = [name for name in opened.data_vars if name.startswith("role_")]
            return opened[list(required) + present + roles].load()
    except (OSError, ValueError) as err:
        raise HimoError(f"{path}: not a readable netCDF measures file ({err})") from None
