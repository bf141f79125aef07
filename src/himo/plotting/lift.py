"""The lift figure: how far each run moves the claimed bottlenecks ahead of value propagation.

::

    rows: the paper environments (Tower of Hanoi, four rooms, wormhole)
    columns: the methods (HIMO, the first-order path gradient, the softmax gradient)

Each panel has one line per followed state (the states the claims name and the
states they are crossed from: :mod:`himo.verdicts.lift`) of its lift,
``DP rank - rank`` on the run's own optimal path, against the foresight, over the
runs that vary the foresight alone, the foresights equally spaced (the grid is
denser near 1). Above zero the run settles the state earlier
than dynamic programming would, below zero later. A hollow marker is a tied rank
(the state's priority is tied with another on-path state's: its rank is one of
several); a gap is a run whose own path does not pass the state. The dashed line
is the DP order (lift 0). Written deterministically by
:func:`himo.plotting.figures.save_figure`.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from himo.plotting.figures import house_style

FIGSIZE = (7.2, 6.0)  # inches: the NeurIPS text width
#: One colour per followed state within a panel, in the order the states come.
STATE_COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
#: The claimed state solid, the state it is crossed from dashed.
CLAIMED_STYLE, BEFORE_STYLE = "solid", (0, (3.0, 1.5))


def lift_figure(profile: dict) -> Figure:
    """The figure of :func:`himo.verdicts.lift.lift_profile`'s lines (module docstring)."""
    from himo.verdicts.baselines import METHOD_FAMILIES

    environments = list(profile)
    families = list(METHOD_FAMILIES)
    foresights = sorted({row["foresight"] for env in profile.values() for lines in env.values()
                         for rows in lines.values() for row in rows})
    position = {f: i for i, f in enumerate(foresights)}
    with house_style():
        fig = Figure(figsize=FIGSIZE, layout="constrained")
        axes = fig.subplots(max(len(environments), 1), len(families), sharex=True, sharey=True, squeeze=False)
        for r, env in enumerate(environments):
            keys = list(dict.fromkeys(key for lines in profile[env].values() for key in lines))
            colours = {key: STATE_COLOURS[i % len(STATE_COLOURS)] for i, key in enumerate(keys)}
            for c, family in enumerate(families):
                ax = axes[r][c]
                _draw_panel(ax, profile[env].get(family, {}), colours, position)
                if r == 0:
                    ax.set_title(family)
                if c == 0:
                    ax.set_ylabel(f"{env}\nlift (DP rank - rank)")
            _state_legend(axes[r][-1], keys, colours)
        for ax in axes[-1]:
            ax.set_xticks(range(len(foresights)), [f"{f:g}" for f in foresights], rotation=90)
            ax.set_xlabel("foresight lambda")
    return fig


def _draw_panel(ax, lines: dict, colours: dict, position: dict) -> None:
    ax.axhline(0.0, color="0.5", linewidth=0.6, linestyle=(0, (2.0, 2.0)))
    for key, rows in lines.items():
        x = np.array([position[row["foresight"]] for row in rows], dtype=float)
        y = np.array([np.nan if row["lift"] is None else row["lift"] for row in rows], dtype=float)
        tied = np.array([bool(row["tied"]) for row in rows])
        style = CLAIMED_STYLE if not key[1].startswith("before ") else BEFORE_STYLE
        ax.plot(x, y, color=colours[key], linestyle=style, linewidth=0.9)
        for mask, face in ((~tied, colours[key]), (tied, "white")):
            ax.plot(x[mask], y[mask], linestyle="none", marker="o", markersize=3.2,
                    markerfacecolor=face, markeredgecolor=colours[key], markeredgewidth=0.8)
    if not lines:
        ax.text(0.5, 0.5, "no run", transform=ax.transAxes, ha="center", va="center", color="0.5")


def _state_legend(ax, keys: Sequence[tuple[str, str]], colours: dict) -> None:
    handles = [Line2D([], [], color=colours[key], marker="o", markersize=3.2,
                      linestyle=BEFORE_STYLE if key[1].startswith("before ") else CLAIMED_STYLE,
                      label=f"{key[0]} ({key[1]})") for key in keys]
    handles.append(Line2D([], [], color="0.3", marker="o", markerfacecolor="white", linestyle="none",
                          label="tied rank"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, fontsize="x-small")
