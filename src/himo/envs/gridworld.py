"""Grid worlds read from text maps (paper Fig. 2 and Fig. S1).

A map is a rectangle of characters, one row per line:

====  =========================================================
char  cell
====  =========================================================
``w`` wall (``#`` also works)
``.`` open cell (a space also works, but editors strip trailing spaces)
``S`` the start (exactly one)
``G`` the goal (exactly one)
``W`` wormhole entrance (at most one; needs an exit)
``X`` wormhole exit
====  =========================================================

Lines that start with ``;`` are comments. Cells outside the map are walls. Every
open cell is a state, labelled ``r<row>c<col>``. Actions are the moves ``N``, ``E``,
``S``, ``W`` (a move into a wall stays in place), ``STOP`` (remain), and at the
wormhole entrance ``WARP``, which moves to the exit. Remaining at the goal earns
``goal_reward`` on every step; every other pair earns ``step_reward``.

Doorways, the ``bottleneck`` states, are found from the walls: open cells with walls
on two opposite sides and open cells on the other two.

The paper's maps ship with the package: ``fourrooms`` (Sutton, Precup & Singh 1999,
13 x 13 with border walls, 104 open cells, four doorways) and ``wormhole`` (the same
with a wormhole from the north-west room to the south-east room). A new grid world
is a new map file: ``make_env("grid", map="path/to/map.txt")``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from himo.envs import register_env
from himo.errors import MapError, ParameterError
from himo.mdp import MDP

WALL_CHARS = {"w", "#"}
OPEN_CHARS = {".", " ", "S", "G", "W", "X"}
ACTION_LABELS = ("N", "E", "S", "W", "STOP", "WARP")
MOVES = {"N": (-1, 0), "E": (0, 1), "S": (1, 0), "W": (0, -1), "STOP": (0, 0)}
WARP = ACTION_LABELS.index("WARP")


@register_env("fourrooms")
def build_fourrooms(goal_reward: float = 1.0, step_reward: float = 0.0) -> MDP:
    """The four-room world of Fig. 2."""
    return build_grid(map="fourrooms", goal_reward=goal_reward, step_reward=step_reward)


@register_env("wormhole")
def build_wormhole(goal_reward: float = 1.0, step_reward: float = 0.0) -> MDP:
    """The four-room world with a wormhole of Fig. S1."""
    return build_grid(map="wormhole", goal_reward=goal_reward, step_reward=step_reward)


@register_env("grid")
def build_grid(
    map: str | None = None,
    rows: int | None = None,
    cols: int | None = None,
    goal_reward: float = 1.0,
    step_reward: float = 0.0,
) -> MDP:
    """A grid world from a map (a shipped map's name or a file path), or an open room.

    Without ``map``, an open ``rows x cols`` room with S at the top-left cell and G
    at the bottom-right cell (the large worlds of the benchmarks).
    """
    if map is not None:
        if rows is not None or cols is not None:
            raise ParameterError("grid: give either map or rows and cols, not both")
        name, text, source = _read_map(map)
        grid = parse_map(text, source)
    else:
        if not all(isinstance(n, (int, np.integer)) and n >= 1 for n in (rows, cols)):
            raise ParameterError(f"grid: rows and cols must be positive integers, got {rows!r}, {cols!r}")
        if rows * cols < 2:
            raise ParameterError("grid: an open room needs at least two cells")
        name = f"grid{rows}x{cols}"
        grid = open_room(rows, cols)
    return grid_mdp(name, grid, goal_reward=goal_reward, step_reward=step_reward)


def open_room(rows: int, cols: int) -> dict:
    """The parsed form of an open room with S top-left and G bottom-right."""
    return {
        "walls": np.zeros((rows, cols), dtype=bool),
        "S": (0, 0),
        "G": (rows - 1, cols - 1),
        "W": None,
        "X": None,
    }


def shipped_maps() -> list[str]:
    """Names of the maps that ship with himo."""
    folder = resources.files("himo.envs") / "maps"
    return sorted(p.name.removesuffix(".txt") for p in folder.iterdir() if p.name.endswith(".txt"))


def _read_map(map_name_or_path: str) -> tuple[str, str, str]:
    if map_name_or_path in shipped_maps():
        path = resources.files("himo.envs") / "maps" / f"{map_name_or_path}.txt"
        return map_name_or_path, path.read_text(), f"map {map_name_or_path!r}"
    path = Path(map_name_or_path)
    if not path.is_file():
        raise MapError(
            f"no map file {str(path)!r} and no shipped map of that name "
            f"(shipped: {', '.join(shipped_maps())})"
        )
    return path.stem, path.read_text(), f"map file {str(path)!r}"


def parse_map(text: str, source: str = "map") -> dict:
    """Parse a text map into its wall mask and the cells of S, G, W and X.

    Raises :class:`MapError` naming the line and column of the first problem.
    """
    lines = [(n, line.rstrip("\n")) for n, line in enumerate(text.splitlines(), start=1)]
    lines = [(n, line) for n, line in lines if not line.startswith(";") and line.strip() != ""]
    if not lines:
        raise MapError(f"{source}: the map has no rows")
    width = max(len(line) for _, line in lines)
    walls = np.zeros((len(lines), width), dtype=bool)
    marks: dict[str, list[tuple[int, int]]] = {c: [] for c in "SGWX"}
    for row, (line_no, line) in enumerate(lines):
        if len(line) != width:
            raise MapError(
                f"{source}, line {line_no}: row has {len(line)} columns, expected {width} "
                f"(use '.' for open cells so that trailing spaces are not lost)"
            )
        for col, char in enumerate(line.ljust(width)):
            if char in WALL_CHARS:
                walls[row, col] = True
            elif char in marks:
                marks[char].append((row, col))
            elif char not in OPEN_CHARS:
                raise MapError(
                    f"{source}, line {line_no}, column {col + 1}: unknown character {char!r} "
                    f"(walls 'w' or '#', open '.', marks S G W X)"
                )
    for mark, what in (("S", "start"), ("G", "goal")):
        if len(marks[mark]) != 1:
            raise MapError(f"{source}: needs exactly one {what} {mark!r}, found {len(marks[mark])}")
    for mark, what in (("W", "wormhole entrance"), ("X", "wormhole exit")):
        if len(marks[mark]) > 1:
            raise MapError(f"{source}: at most one {what} {mark!r}, found {len(marks[mark])}")
    if len(marks["W"]) != len(marks["X"]):
        raise MapError(f"{source}: a wormhole needs both an entrance 'W' and an exit 'X'")
    first = lambda m: marks[m][0] if marks[m] else None  # noqa: E731
    return {"walls": walls, "S": first("S"), "G": first("G"), "W": first("W"), "X": first("X")}


def grid_mdp(name: str, grid: dict, goal_reward: float = 1.0, step_reward: float = 0.0) -> MDP:
    """The MDP of a parsed grid: one state per open cell, deterministic moves."""
    walls = grid["walls"]
    n_rows, n_cols = walls.shape
    open_rows, open_cols = np.nonzero(~walls)  # row-major order of the open cells
    n_states = open_rows.size
    index = np.full(walls.shape, -1, dtype=np.int64)
    index[open_rows, open_cols] = np.arange(n_states)
    states = np.arange(n_states)

    pair_state, pair_action, next_state = [], [], []
    for action, (dr, dc) in enumerate(MOVES.values()):
        r, c = open_rows + dr, open_cols + dc
        inside = (r >= 0) & (r < n_rows) & (c >= 0) & (c < n_cols)
        target = np.where(inside, index[np.clip(r, 0, n_rows - 1), np.clip(c, 0, n_cols - 1)], -1)
        pair_state.append(states)
        pair_action.append(np.full(n_states, action))
        next_state.append(np.where(target >= 0, target, states))  # into a wall: stay
    roles = {
        "goal": _mask(n_states, index[grid["G"]]),
        "bottleneck": _doorways(walls)[open_rows, open_cols],
    }
    if grid["W"] is not None:
        entrance, exit_ = index[grid["W"]], index[grid["X"]]
        pair_state.append([entrance])
        pair_action.append([WARP])
        next_state.append([exit_])
        roles["wormhole_entrance"] = _mask(n_states, entrance)
        roles["wormhole_exit"] = _mask(n_states, exit_)
        roles["wormhole"] = roles["wormhole_entrance"] | roles["wormhole_exit"]
    pair_state, pair_action, next_state = map(np.concatenate, (pair_state, pair_action, next_state))

    goal, stop = index[grid["G"]], ACTION_LABELS.index("STOP")
    reward = np.where((pair_state == goal) & (pair_action == stop), goal_reward, step_reward)
    P = sp.csr_matrix(
        (np.ones(pair_state.size), (np.arange(pair_state.size), next_state)),
        shape=(pair_state.size, n_states),
    )
    used_actions = ACTION_LABELS if grid["W"] is not None else ACTION_LABELS[:WARP]
    return MDP.from_pairs(
        name=name,
        state_labels=[f"r{r}c{c}" for r, c in zip(open_rows, open_cols)],
        action_labels=used_actions,
        pair_state=pair_state,
        pair_action=pair_action,
        P=P,
        R=reward,
        start=int(index[grid["S"]]),
        layout=np.column_stack([open_cols, -open_rows]).astype(float),
        roles=roles,
        walls=walls,
        cells=np.column_stack([open_rows, open_cols]),
        attrs={
            "title": f"grid world {name}",
            "goal_reward": float(goal_reward),
            "step_reward": float(step_reward),
        },
    )


def _mask(n: int, i: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[i] = True
    return mask


def _doorways(walls: np.ndarray) -> np.ndarray:
    """Open cells with walls on two opposite sides and open cells on the other two."""
    padded = np.pad(walls, 1, constant_values=True)
    north, south = padded[:-2, 1:-1], padded[2:, 1:-1]
    west, east = padded[1:-1, :-2], padded[1:-1, 2:]
    vertical = north & south & ~west & ~east
    horizontal = west & east & ~north & ~south
    return ~walls & (vertical | horizontal)
