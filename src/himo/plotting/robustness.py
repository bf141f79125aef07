"""The robustness atlas drawn: the verdict heat map and the priority ranks by foresight.

Both figures are drawn from the tables of :mod:`himo.verdicts.robustness`
(``results/robustness.csv`` and ``results/priority_ranks.csv``), read by
:func:`read_table`:

* :func:`verdict_heatmap` (``figures/robustness.png``): one panel per priority
  definition (the paper's, the peak of dPD/dt, on top); rows are the claims (G1
  once per paper environment), columns the variants, grouped by the choice they
  vary (main, foresight, step, ...; :data:`himo.verdicts.robustness.GROUPS`); a
  cell is coloured and lettered by the verdict of that claim on that variant's run
  of the claim's environment (R replicated, P partly, N not replicated, - not
  evaluated), blank where that environment has no such run.
* :func:`rank_figure` (``figures/priority_ranks.png``): for each paper environment
  (columns), the on-path rank of each state (1 = the earliest priority, at the top)
  against the foresight, a row of panels per method family under the paper's
  priority definition (HIMO, the first-order gradients, Kakade's natural gradient)
  and one for HIMO under each other definition; each run ranked on its own optimal
  path (a line breaks where the state leaves it), over the runs that vary only the
  foresight (the table's ``compared`` rows; a config without such runs gets a figure
  that says so). The states a claim is about (the Hanoi bridge of H2, the entry
  doorways of R1, the wormhole of W2: the ``claimed_by`` column, start and goal
  aside) are drawn in colour, the states that move most over the foresight
  (:func:`movers`) in two other colours, both labelled at the right; the states
  between the claimed ones and the goal in dark grey, the others in light grey:
  where a coloured line rises above the dark grey ones, the claimed state overtakes
  the states between it and the goal. The x axis is spaced by the horizon
  1/(1 - lambda).

Written deterministically by :func:`himo.plotting.figures.save_figure`.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from himo.errors import HimoError
from himo.io import read_csv
from himo.plotting.figures import house_style
from himo.plotting.labels import spread
from himo.verdicts.priors import PRIOR_GROUP
from himo.verdicts.robustness import group_order
from himo.verdicts.vocabulary import (
    NOT,
    NOT_EVALUATED,
    PAPER_PRIORITY,
    PARTLY,
    PRIORITY_SHORT,
    PRIORITY_TITLES,
    REPLICATED,
    VERDICT_LETTERS,
)

#: The verdicts in the order of their colour codes, with their colours (their letters
#: are :data:`~himo.verdicts.vocabulary.VERDICT_LETTERS`).
VERDICT_COLOURS = {  # green to purple (ColorBrewer PRGn): apart for red-green colour blindness too
    REPLICATED: "#1b7837",
    PARTLY: "#a6dba0",
    NOT: "#762a83",
    NOT_EVALUATED: "0.85",
}
#: The columns each table must have (the others are ignored).
ROBUSTNESS_NEEDS = ("claim", "paper_env", "priority", "verdict", "group", "variant")
RANKS_NEEDS = ("paper_env", "env_key", "priority", "family", "compared", "foresight", "state", "steps_to_goal",
               "rank", "role", "claimed_by")
#: The columns the figures draw as numbers (the others stay text, e.g. a variant "0.8"; an empty cell is NaN).
NUMBER_COLUMNS = ("foresight", "steps_to_goal", "rank")
#: Colours of the rank lines: claimed states (one each), states between them and the goal, others.
CLAIMED_COLOURS = ("#d62728", "#ff7f0e", "#1f4e9c", "#9467bd")
BETWEEN_COLOUR = "0.35"
OTHER_COLOUR = "0.8"
#: The states that move most over the foresight (:func:`movers`): at most N_MOVERS per
#: panel, each moving by at least MIN_MOVE ranks, drawn and labelled in these colours.
MOVER_COLOURS = ("#17becf", "#e377c2")
N_MOVERS = 2
MIN_MOVE = 2
#: The kinds of lines of the rank figure, drawn in this order (the last on top).
LINE_KINDS = ("other", "between", "mover", "goal", "claimed")
#: The least distance between two labels at the right of a rank panel, in points, and
#: the room left for them right of the lines (a fraction of the foresight axis).
LABEL_GAP_POINTS = 5.5
LABEL_ROOM = 0.42


def read_table(path: str | Path, needs: tuple[str, ...]) -> pd.DataFrame:
    """A table written by :func:`himo.io.csv_text` (:func:`himo.io.read_csv`), checked for
    the columns ``needs``; the :data:`NUMBER_COLUMNS` are numbers (an empty cell NaN), the
    others text."""
    rows = read_csv(path, needs)
    table = pd.DataFrame(rows, columns=list(rows[0]) if rows else list(needs))
    for name in NUMBER_COLUMNS:
        if name in table:
            try:
                table[name] = pd.to_numeric(table[name].replace("", np.nan))
            except ValueError as err:
                raise HimoError(f"{path}: the column {name} is not numbers ({err})") from None
    return table


# ------------------------------------------------------------------ the heat map
def one_run_per_cell(table: pd.DataFrame) -> pd.DataFrame:
    """The rows the heat map draws: all but the runs from drawn priors (group ``prior``),
    several runs per setting under one label, whose spread is a table of the report
    (:mod:`himo.verdicts.priors`), not one run's verdict."""
    return table[table["group"] != PRIOR_GROUP]


def heatmap_layout(table: pd.DataFrame) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The rows ``[(claim, paper_env)]`` and columns ``[(group, variant)]`` of the heat map.

    Rows in the table's order of the claims (G1 once per environment); columns by
    group (:func:`himo.verdicts.robustness.group_order`), then in the table's order
    (the tables are sorted by the choices).
    """
    table = one_run_per_cell(table)
    rows = list(dict.fromkeys(zip(table["claim"], table["paper_env"])))
    columns = list(dict.fromkeys(zip(table["group"], table["variant"])))
    columns.sort(key=lambda c: group_order(c[0]))  # stable: the table's order within a group
    return rows, columns


def verdict_heatmap(table: pd.DataFrame) -> Figure:
    """The heat map of verdicts, one panel per priority definition in ``table``: a cell per
    claim and variant, one run each (:func:`one_run_per_cell`)."""
    import seaborn as sns

    table = one_run_per_cell(table)
    rows, columns = heatmap_layout(table)
    priorities = sorted(set(table["priority"]), key=lambda p: (p != PAPER_PRIORITY, p))
    codes = {verdict: i for i, verdict in enumerate(VERDICT_COLOURS)}
    cmap = ListedColormap(list(VERDICT_COLOURS.values()))
    width = min(max(3.6, 1.2 + 0.17 * len(columns)), 10.0)
    height = 1.0 + len(priorities) * (0.9 + 0.17 * len(rows))
    with house_style():
        fig = Figure(figsize=(width, height), layout="constrained")
        axes = fig.subplots(len(priorities), 1, squeeze=False)[:, 0]
        for ax, priority in zip(axes, priorities):
            grid = np.full((len(rows), len(columns)), np.nan)
            letters = np.full(grid.shape, "", dtype=object)
            part = table[table["priority"] == priority]
            index_row = {r: i for i, r in enumerate(rows)}
            index_col = {c: j for j, c in enumerate(columns)}
            for claim, env, group, variant, verdict in zip(part["claim"], part["paper_env"], part["group"],
                                                           part["variant"], part["verdict"]):
                i, j = index_row[(claim, env)], index_col[(group, variant)]
                grid[i, j] = codes[verdict]
                letters[i, j] = VERDICT_LETTERS[verdict]
            sns.heatmap(grid, ax=ax, cmap=cmap, vmin=-0.5, vmax=len(VERDICT_COLOURS) - 0.5, cbar=False,
                        annot=letters, fmt="", annot_kws={"fontsize": 4.5},
                        linewidths=0.4, linecolor="white", square=False)
            ax.set_yticks(np.arange(len(rows)) + 0.5, [_row_label(rows, r) for r in rows], rotation=0)
            ax.set_xticks(np.arange(len(columns)) + 0.5, _column_labels(columns), rotation=90, fontsize=5)
            ax.tick_params(length=0)
            _group_brackets(ax, columns)
            ax.set_title(PRIORITY_TITLES.get(priority, f"priority: {priority}"), loc="left", pad=14)
        fig.legend(handles=[Patch(facecolor=colour, label=f"{VERDICT_LETTERS[verdict]} {verdict}")
                            for verdict, colour in VERDICT_COLOURS.items()],
                   loc="outside lower center", ncols=len(VERDICT_COLOURS) if width >= 5 else 2, frameon=False)
    return fig


def _column_labels(columns: list[tuple[str, str]]) -> list[str]:
    """The variant of each column; a group of one column is named in its label
    (``step rule: multiplicative``), the others above their columns (:func:`_group_brackets`)."""
    size = {group: sum(g == group for g, _ in columns) for group, _ in columns}
    return [variant if size[group] > 1 or group == variant else f"{group}: {variant}" for group, variant in columns]


def _row_label(rows: list[tuple[str, str]], row: tuple[str, str]) -> str:
    """A claim's id, with its environment when the claim has several rows (G1)."""
    claim, env = row
    return f"{claim} {env}" if sum(r[0] == claim for r in rows) > 1 else claim


def _group_brackets(ax, columns: list[tuple[str, str]]) -> None:
    """The names of the groups of several columns above them, and white rules between the groups."""
    start = 0
    for j in range(1, len(columns) + 1):
        if j == len(columns) or columns[j][0] != columns[start][0]:
            if j - start > 1:
                ax.text((start + j) / 2, -0.25, columns[start][0], ha="center", va="bottom", fontsize=5.5,
                        clip_on=False)
            if j < len(columns):
                ax.axvline(j, color="white", linewidth=2.0)
            start = j


# -------------------------------------------------------------- the rank figure
def rank_figure(table: pd.DataFrame) -> Figure:
    """The on-path ranks against the foresight: a column of panels per paper
    environment, a row per method family under the paper's priority definition and
    one for HIMO under each other definition (see the module docstring)."""
    series = table[(table["compared"].astype(str).str.lower() == "true") & (table["paper_env"] != "")]
    if series.empty:
        with house_style():
            fig = Figure(figsize=(7.2, 1.5), layout="constrained")
            fig.text(0.5, 0.5, "no run of a paper environment at its main settings or varying only the foresight",
                     ha="center", va="center")
        return fig
    envs = _paper_order(set(series["paper_env"]))
    rows = rank_rows(series)
    with house_style():
        fig = Figure(figsize=(7.2, 0.9 + 1.55 * len(rows)), layout="constrained")
        axes = fig.subplots(len(rows), len(envs), squeeze=False)
        for row, (family, priority) in enumerate(rows):
            for col, env in enumerate(envs):
                ax = axes[row, col]
                part = series[(series["paper_env"] == env) & (series["family"] == family)
                              & (series["priority"] == priority)]
                _rank_panel(ax, part, ticks=sorted(set(series.loc[series["paper_env"] == env, "foresight"])),
                            tick_labels=row == len(rows) - 1)
                definition = "" if priority == PAPER_PRIORITY else f", {PRIORITY_SHORT.get(priority, priority)}"
                ax.set_title(f"{env}: {family}{definition}", loc="left", fontsize=7)
                if col == 0:
                    ax.set_ylabel(f"{family}: on-path rank\n{PRIORITY_TITLES.get(priority, priority)}", fontsize=5.5)
        fig.legend(handles=_rank_legend(), loc="outside upper center", ncols=3, fontsize=5.5, handlelength=2.0)
        fig.supxlabel("foresight \u03bb (spaced by the horizon 1/(1 - \u03bb))", fontsize=7)
    return fig


def rank_rows(series: pd.DataFrame) -> list[tuple[str, str]]:
    """The rows of panels: ``(family, priority definition)``, every family under the
    paper's definition in the order of :data:`himo.verdicts.baselines.METHOD_FAMILIES`,
    then HIMO under each other definition; those the table has rows for."""
    from himo.verdicts.baselines import METHOD_FAMILIES

    present = set(zip(series["family"], series["priority"]))
    others = sorted({p for _, p in present if p != PAPER_PRIORITY})
    wanted = [(family, PAPER_PRIORITY) for family in METHOD_FAMILIES] + [("HIMO", p) for p in others]
    return [row for row in wanted if row in present]


def _paper_order(envs: set[str]) -> list[str]:
    """The paper's environments in the order of the claims registry, the others after, sorted."""
    from himo.verdicts.claims import CLAIMS

    paper = [env for env in dict.fromkeys(c.paper_env for c in CLAIMS) if env in envs]
    return paper + sorted(envs - set(paper))


def _rank_legend() -> list[Line2D]:
    """One entry per kind of line, the way it is drawn (a claimed state and a mover in the
    first of their colours)."""
    return [Line2D([], [], color=colour, linewidth=width, marker="o", markersize=2.0, label=label)
            for colour, width, label in (
                (CLAIMED_COLOURS[0], 1.4, "a claimed state (labelled: state, claim)"),
                (MOVER_COLOURS[0], 1.1, "moves most over the foresight (labelled: state, ranks it moves)"),
                ("0.0", 1.0, "goal"),
                (BETWEEN_COLOUR, 0.8, "between the claimed states and the goal"),
                (OTHER_COLOUR, 0.7, "other on-path states"))]


def movers(part: pd.DataFrame) -> dict[str, int]:
    """The states that move most over the foresight in one panel (the claimed states and
    the goal aside): ``{state: ranks moved}`` (its highest rank less its lowest), the
    :data:`N_MOVERS` that move most by at least :data:`MIN_MOVE`, the most first (ties:
    by state)."""
    claimed = set(part.loc[(part["claimed_by"] != "") & ~part["role"].isin(["start", "goal"]), "state"])
    goal = set(part.loc[part["role"] == "goal", "state"])
    moved = part.groupby("state")["rank"].agg(lambda r: int(r.max() - r.min()))
    ranked = sorted(((int(m), state) for state, m in moved.items() if state not in claimed | goal and m >= MIN_MOVE),
                    key=lambda item: (-item[0], item[1]))
    return {state: m for m, state in ranked[:N_MOVERS]}


def _rank_panel(ax, part: pd.DataFrame, ticks: list[float], tick_labels: bool = True) -> None:
    """One environment, family and definition: a line per on-path state, rank against
    foresight (broken where the state is off the run's own path); the claimed states and
    the movers labelled at the right."""
    if part.empty:
        ax.text(0.5, 0.5, "no run", ha="center", va="center", transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
        return
    claimed = part[(part["claimed_by"] != "") & ~part["role"].isin(["start", "goal"])]
    # Between the claimed states and the goal: fewer steps to go than the nearest claimed state, not the goal.
    nearest = claimed.groupby("foresight")["steps_to_goal"].min() if not claimed.empty else pd.Series(dtype=float)
    colours = {state: CLAIMED_COLOURS[i % len(CLAIMED_COLOURS)] for i, state in enumerate(sorted(set(claimed["state"])))}
    moving = movers(part)
    colours.update({state: MOVER_COLOURS[i % len(MOVER_COLOURS)] for i, state in enumerate(moving)})
    foresights = sorted(set(part["foresight"]))
    labels = []
    for state, rows in sorted(part.groupby("state"), key=lambda item: _draw_order(item[0], item[1], nearest, moving)):
        rows = rows.sort_values("foresight")
        rank = rows.set_index("foresight")["rank"].reindex(foresights)  # NaN: off its own path there
        kind = _kind(state, rows, nearest, moving)
        if kind == "claimed":
            claim = sorted(c for text in rows["claimed_by"] for c in text.split() if c)[0]
            colour, width, z, text = colours[state], 1.4, 5, f"{state} ({claim})"
        elif kind == "mover":
            colour, width, z, text = colours[state], 1.1, 4, f"{state} ({moving[state]})"
        elif kind == "goal":
            colour, width, z, text = "0.0", 1.0, 3, None
        elif kind == "between":
            colour, width, z, text = BETWEEN_COLOUR, 0.8, 2, None
        else:
            colour, width, z, text = OTHER_COLOUR, 0.7, 1, None
        x = _horizon(pd.Series(foresights))
        ax.plot(x, rank.values, color=colour, linewidth=width, zorder=z, marker="o", markersize=2.0,
                gid=f"{kind}:{state}")
        if text is not None:
            last = int(np.flatnonzero(np.isfinite(rank.values))[-1])
            labels.append((float(rank.values[last]), float(x[last]), text, colour, state))
    x = _horizon(pd.Series(ticks))
    ax.set_xticks(x, [f"{t:g}" for t in ticks] if tick_labels else [], rotation=90, fontsize=5)
    width = float(x[-1] - x[0]) or 1.0
    ax.set_xlim(x[0] - 0.04 * width, x[-1] + LABEL_ROOM * width)  # room for the labels, right of the lines
    top = int(part["rank"].max())
    ax.set_ylim(top + 0.5, 0.5)
    ax.set_yticks(range(1, top + 1, max(1, math.ceil(top / 10))))
    _end_labels(ax, labels, top, x[-1] + 0.08 * width)


def _end_labels(ax, labels: list[tuple], top: int, column: float) -> None:
    """The labels of the claimed states and the movers, in a column at ``column`` (right
    of the lines), each at its line's last rank, moved apart
    (:func:`himo.plotting.labels.spread`) and joined to its line's last point by a leader."""
    if not labels:
        return
    height = ax.get_position().height * ax.figure.get_figheight() * 72  # points, before the layout
    gap = top * LABEL_GAP_POINTS / max(height, 1.0)
    placed = spread([y for y, *_ in labels], gap, low=0.5 + gap / 2, high=top + 0.5 - gap / 2)
    for (y, x, text, colour, state), where in zip(labels, placed):
        label = ax.annotate(text, xy=(x, y), xytext=(column, where), fontsize=4.5, color=colour, va="center",
                            ha="left", gid=f"label:{state}",
                            arrowprops=dict(arrowstyle="-", color=colour, linewidth=0.3, shrinkA=0, shrinkB=1.5))
        label.set_in_layout(False)


def _kind(state: str, rows: pd.DataFrame, nearest: pd.Series, moving: dict) -> str:
    roles = set(rows["role"])
    if "goal" in roles:
        return "goal"
    if (rows["claimed_by"] != "").any() and not roles & {"start"}:
        return "claimed"
    if state in moving:
        return "mover"
    closer = [steps < nearest.get(f, -math.inf) for f, steps in zip(rows["foresight"], rows["steps_to_goal"])]
    return "between" if any(closer) else "other"


def _draw_order(state: str, rows: pd.DataFrame, nearest: pd.Series, moving: dict) -> tuple:
    return (LINE_KINDS.index(_kind(state, rows, nearest, moving)), state)


def _horizon(foresight: pd.Series) -> np.ndarray:
    """The x position of a foresight: log of the horizon 1 / (1 - lambda)."""
    return -np.log(1.0 - np.asarray(foresight, dtype=float))
