"""Grid worlds (paper Fig. 2 and Fig. S1): the shipped maps, the moves, map errors."""

from __future__ import annotations

from collections import deque
from importlib import resources

import numpy as np
import pytest

from himo import make_env
from himo.envs.gridworld import parse_map
from himo.errors import MapError, ParameterError

FOURROOMS_DOORWAYS = {(3, 6), (6, 2), (7, 9), (10, 6)}
STEP = {"N": (-1, 0), "E": (0, 1), "S": (1, 0), "W": (0, -1), "STOP": (0, 0)}


def shipped_rows(name):
    text = (resources.files("himo.envs") / "maps" / f"{name}.txt").read_text()
    return [line for line in text.splitlines() if line and not line.startswith(";")]


def bfs_distance(mdp, source, target, skip_action=None):
    P = mdp.P.tocoo()
    graph = {s: set() for s in range(mdp.n_states)}
    for x, k in zip(P.row, P.col):
        if skip_action is None or mdp.action_labels[mdp.pair_action[x]] != skip_action:
            graph[int(mdp.pair_state[x])].add(int(k))
    seen, queue = {source: 0}, deque([source])
    while queue:
        s = queue.popleft()
        for k in graph[s] - seen.keys():
            seen[k] = seen[s] + 1
            queue.append(k)
    return seen.get(target)


def cell_of(mdp, state):
    return tuple(int(v) for v in mdp.cells[state])


@pytest.fixture(scope="module", params=["fourrooms", "wormhole"])
def grid(request):
    return request.param, make_env(request.param)


def test_open_cells_are_the_states(grid):
    name, mdp = grid
    rows = shipped_rows(name)
    assert len(rows) == 13 and all(len(r) == 13 for r in rows)
    open_cells = [(r, c) for r, row in enumerate(rows) for c, ch in enumerate(row) if ch != "w"]
    assert len(open_cells) == 104 == mdp.n_states
    assert [cell_of(mdp, s) for s in range(mdp.n_states)] == open_cells  # row-major
    assert mdp.state_labels == tuple(f"r{r}c{c}" for r, c in open_cells)
    assert mdp.walls.shape == (13, 13) and mdp.walls.sum() == 169 - 104
    start, goal = cell_of(mdp, mdp.start), cell_of(mdp, int(np.flatnonzero(mdp.role("goal"))[0]))
    assert rows[start[0]][start[1]] == "S" and start == (1, 1)  # north-west room
    assert rows[goal[0]][goal[1]] == "G" and goal == (11, 11)  # south-east room


def test_four_doorways_are_the_bottlenecks(grid):
    _, mdp = grid
    doorways = {cell_of(mdp, s) for s in np.flatnonzero(mdp.role("bottleneck"))}
    assert doorways == FOURROOMS_DOORWAYS


def test_moves_into_walls_stay(grid):
    name, mdp = grid
    rows = shipped_rows(name)
    targets = mdp.P.toarray()
    for x in range(mdp.n_pairs):
        r, c = cell_of(mdp, mdp.pair_state[x])
        action = mdp.action_labels[mdp.pair_action[x]]
        assert targets[x].max() == 1.0
        after = cell_of(mdp, int(np.argmax(targets[x])))
        if action == "WARP":
            assert rows[r][c] == "W" and rows[after[0]][after[1]] == "X"
            continue
        dr, dc = STEP[action]
        expected = (r + dr, c + dc) if rows[r + dr][c + dc] != "w" else (r, c)
        assert after == expected, f"{action} from {(r, c)}"
    # the start is in a corner: N and W stay, E and S move
    for action, moved in (("N", False), ("W", False), ("E", True), ("S", True), ("STOP", False)):
        x = mdp.pair_index(mdp.start, action)
        assert (targets[x, mdp.start] == 1.0) != moved


def test_actions_and_reward(grid):
    name, mdp = grid
    per_state = mdp.actions_per_state
    has_warp = name == "wormhole"
    assert mdp.action_labels == ("N", "E", "S", "W", "STOP") + (("WARP",) if has_warp else ())
    assert np.count_nonzero(per_state == 6) == (1 if has_warp else 0)
    assert np.count_nonzero(per_state == 5) == mdp.n_states - has_warp
    rewarded = np.flatnonzero(mdp.R != 0)
    assert rewarded.size == 1
    assert mdp.role("goal")[mdp.pair_state[rewarded[0]]]
    assert mdp.action_labels[mdp.pair_action[rewarded[0]]] == "STOP"


def test_fourrooms_shortest_path():
    mdp = make_env("fourrooms")
    goal = int(np.flatnonzero(mdp.role("goal"))[0])
    assert bfs_distance(mdp, mdp.start, goal) == 20


def test_wormhole_is_a_shortcut():
    """Through the wormhole S to G is strictly shorter (12 steps) than without WARP (20)."""
    mdp = make_env("wormhole")
    goal = int(np.flatnonzero(mdp.role("goal"))[0])
    entrance = int(np.flatnonzero(mdp.role("wormhole_entrance"))[0])
    exit_ = int(np.flatnonzero(mdp.role("wormhole_exit"))[0])
    with_warp = bfs_distance(mdp, mdp.start, goal)
    without = bfs_distance(mdp, mdp.start, goal, skip_action="WARP")
    assert with_warp < without
    assert (with_warp, without) == (12, 20)  # as the comment of maps/wormhole.txt says
    assert bfs_distance(mdp, mdp.start, entrance) + 1 + bfs_distance(mdp, exit_, goal) == with_warp
    assert cell_of(mdp, entrance)[0] < 6 and cell_of(mdp, entrance)[1] < 6  # north-west room
    assert cell_of(mdp, exit_)[0] > 7 and cell_of(mdp, exit_)[1] > 6  # south-east room
    assert np.array_equal(mdp.role("wormhole"), mdp.role("wormhole_entrance") | mdp.role("wormhole_exit"))
    comment = " ".join(line for line in (resources.files("himo.envs") / "maps" / "wormhole.txt")
                       .read_text().splitlines() if line.startswith(";"))
    assert f"{with_warp} steps" in comment and f"doorways, {without}" in comment


@pytest.mark.parametrize("rows, cols", [(3, 4), (1, 5), (6, 6)])
def test_open_grid(rows, cols):
    mdp = make_env("grid", rows=rows, cols=cols)
    assert mdp.n_states == rows * cols and mdp.name == f"grid{rows}x{cols}"
    assert cell_of(mdp, mdp.start) == (0, 0)
    goal = int(np.flatnonzero(mdp.role("goal"))[0])
    assert cell_of(mdp, goal) == (rows - 1, cols - 1)
    assert bfs_distance(mdp, mdp.start, goal) == rows + cols - 2
    assert np.all(mdp.actions_per_state == 5)
    assert not mdp.walls.any()


@pytest.mark.parametrize(
    "kwargs, match",
    [
        pytest.param(dict(rows=0, cols=3), "positive integers", id="zero-rows"),
        pytest.param(dict(rows=1, cols=1), "at least two cells", id="single-cell"),
        pytest.param(dict(rows=2.5, cols=3), "positive integers", id="float-rows"),
        pytest.param(dict(map="fourrooms", rows=3, cols=3), "either map or rows", id="map-and-rows"),
    ],
)
def test_bad_grid_parameters(kwargs, match):
    with pytest.raises(ParameterError, match=match):
        make_env("grid", **kwargs)


def test_map_file_builds_a_grid(tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text("; a corridor\n#####\n#S.G#\n#####\n")
    mdp = make_env("grid", map=str(path))
    assert mdp.name == "tiny" and mdp.n_states == 3
    assert bfs_distance(mdp, mdp.start, int(np.flatnonzero(mdp.role("goal"))[0])) == 2


@pytest.mark.parametrize(
    "text, match",
    [
        pytest.param("; c\nwwww\nwS?w\nwGww\n", r"line 3, column 3: unknown character '\?'", id="unknown-char"),
        pytest.param("wwww\nwS.Gw\nwwww\n", r"line 1: row has 4 columns, expected 5", id="ragged-row"),
        pytest.param("wwww\nw..G\nwwww\n", r"exactly one start 'S', found 0", id="missing-S"),
        pytest.param("wwwww\nwSGGw\nwwwww\n", r"exactly one goal 'G', found 2", id="two-G"),
        pytest.param("wwwww\nwSWGw\nwwwww\n", r"needs both an entrance 'W' and an exit 'X'", id="W-without-X"),
        pytest.param("wwwww\nwSXGw\nwwwww\n", r"needs both an entrance 'W' and an exit 'X'", id="X-without-W"),
        pytest.param("; only a comment\n\n", r"no rows", id="empty"),
    ],
)
def test_map_errors(text, match):
    with pytest.raises(MapError, match=match) as err:
        parse_map(text, "map file 'bad.txt'")
    assert str(err.value).startswith("map file 'bad.txt'")


def test_missing_map_file(tmp_path):
    missing = tmp_path / "nowhere.txt"
    with pytest.raises(MapError, match="no map file") as err:
        make_env("grid", map=str(missing))
    assert str(missing) in str(err.value) and "fourrooms" in str(err.value)
