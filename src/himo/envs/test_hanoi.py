"""The Tower of Hanoi environment (paper Fig. 1), checked from the puzzle's rules."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from himo import make_env
from himo.errors import ParameterError


def neighbours(mdp):
    """``{state: set of next states}`` over all pairs, self-loops excluded."""
    coo = mdp.P.tocoo()
    out = {s: set() for s in range(mdp.n_states)}
    for x, k in zip(coo.row, coo.col):
        if mdp.pair_state[x] != k:
            out[int(mdp.pair_state[x])].add(int(k))
    return out


def bfs_distance(mdp, source, target):
    graph, seen, queue = neighbours(mdp), {source: 0}, deque([source])
    while queue:
        s = queue.popleft()
        for k in graph[s]:
            if k not in seen:
                seen[k] = seen[s] + 1
                queue.append(k)
    return seen.get(target)


def pegs_of(label):
    """Label ``"abc"``: peg of the largest disk first. Returns the stacks, smallest on top."""
    n = len(label)
    stacks = [[] for _ in range(3)]
    for size, peg in zip(range(n, 0, -1), label):  # largest first
        stacks[int(peg)].append(size)
    return stacks  # each list ends with its top (smallest) disk


@pytest.fixture(scope="module")
def hanoi3():
    return make_env("hanoi", n_disks=3)


def test_sizes_start_and_goal(hanoi3):
    mdp = hanoi3
    assert mdp.n_states == 27
    assert mdp.state_labels[mdp.start] == "000"
    goal = np.flatnonzero(mdp.role("goal"))
    assert [mdp.state_labels[g] for g in goal] == ["222"]
    assert bfs_distance(mdp, mdp.start, goal[0]) == 7


@pytest.mark.parametrize("n_disks, n_states, distance", [(1, 3, 1), (2, 9, 3), (3, 27, 7), (4, 81, 15)])
def test_shortest_path_is_two_to_the_n_minus_one(n_disks, n_states, distance):
    mdp = make_env("hanoi", n_disks=n_disks)
    assert mdp.n_states == n_states
    assert bfs_distance(mdp, mdp.start, int(np.flatnonzero(mdp.role("goal"))[0])) == distance


def test_moves_follow_the_rules(hanoi3):
    """Every move takes a peg's top disk onto an empty peg or a larger disk; STOP stays."""
    mdp = hanoi3
    targets = mdp.P.toarray()
    for x in range(mdp.n_pairs):
        state, action = mdp.state_labels[mdp.pair_state[x]], mdp.action_labels[mdp.pair_action[x]]
        assert targets[x].max() == 1.0, "moves are deterministic"
        after = mdp.state_labels[int(np.argmax(targets[x]))]
        if action == "STOP":
            assert after == state
            continue
        a, b = map(int, action.split("->"))
        stacks = pegs_of(state)
        assert stacks[a], f"{state}: {action} moves from an empty peg"
        assert not stacks[b] or stacks[a][-1] < stacks[b][-1], f"{state}: {action} puts a larger disk on a smaller"
        stacks[b].append(stacks[a].pop())
        assert pegs_of(after) == stacks


def test_every_legal_move_is_available(hanoi3):
    """Two moves where all disks sit on one peg (the three corners), three elsewhere, plus STOP."""
    mdp = hanoi3
    counts = dict(zip(mdp.state_labels, mdp.actions_per_state))
    for label, count in counts.items():
        stacks = pegs_of(label)
        legal = sum(
            1 for a in range(3) for b in range(3)
            if a != b and stacks[a] and (not stacks[b] or stacks[a][-1] < stacks[b][-1])
        )
        corner = len(set(label)) == 1
        assert legal == (2 if corner else 3)
        assert count == legal + 1, label
    assert sorted(lab for lab, c in counts.items() if c == 3) == ["000", "111", "222"]
    assert all(mdp.pair_index(s, "STOP") >= 0 for s in range(mdp.n_states))


def test_reward_only_for_remaining_at_the_goal(hanoi3):
    mdp = hanoi3
    rewarded = np.flatnonzero(mdp.R != 0)
    assert rewarded.size == 1
    x = rewarded[0]
    assert mdp.state_labels[mdp.pair_state[x]] == "222" and mdp.action_labels[mdp.pair_action[x]] == "STOP"
    assert mdp.R[x] == 1.0


def test_three_clusters_joined_by_three_edges_between_six_bottlenecks(hanoi3):
    mdp = hanoi3
    cluster = mdp.cluster
    assert sorted(np.bincount(cluster)) == [9, 9, 9]
    for s, label in enumerate(mdp.state_labels):
        assert cluster[s] == int(label[0]), "cluster = peg of the largest disk"
    graph = neighbours(mdp)
    crossing = {(s, k) for s in graph for k in graph[s] if cluster[s] != cluster[k]}
    assert len(crossing) == 6  # three undirected edges
    ends = sorted({s for edge in crossing for s in edge})
    bottleneck = np.flatnonzero(mdp.role("bottleneck"))
    assert ends == bottleneck.tolist()
    assert len(bottleneck) == 6
    assert sorted(np.bincount(cluster[bottleneck])) == [2, 2, 2]
    # each cluster is connected on its own
    for c in range(3):
        members = set(np.flatnonzero(cluster == c).tolist())
        start = min(members)
        seen, stack = {start}, [start]
        while stack:
            for k in graph[stack.pop()] & members:
                if k not in seen:
                    seen.add(k)
                    stack.append(k)
        assert seen == members


@pytest.mark.parametrize("n_disks", [2, 3, 4])
def test_sierpinski_layout_places_neighbours_close(n_disks):
    """Every edge has the length of the smallest triangle's side, every non-edge is longer."""
    mdp = make_env("hanoi", n_disks=n_disks)
    graph = neighbours(mdp)
    xy = mdp.layout
    dist = np.linalg.norm(xy[:, None] - xy[None, :], axis=-1)
    adjacent = np.zeros_like(dist, dtype=bool)
    for s, ks in graph.items():
        adjacent[s, list(ks)] = True
    assert np.array_equal(adjacent, adjacent.T), "moves are reversible"
    off_diagonal = ~np.eye(mdp.n_states, dtype=bool)
    np.testing.assert_allclose(dist[adjacent], 0.5**n_disks, rtol=1e-9)
    assert dist[~adjacent & off_diagonal].min() > 1.5 * 0.5**n_disks
    # S, G and the third all-on-one-peg state are the states nearest the triangle's corners
    corners = [mdp.state_index(p * n_disks) for p in "012"]
    hull = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, np.sqrt(3) / 2]])
    nearest = np.argmin(np.linalg.norm(xy[None, :, :] - hull[:, None, :], axis=-1), axis=1)
    assert sorted(nearest.tolist()) == sorted(corners)


@pytest.mark.parametrize("bad", [0, 16, 2.5, "3"])
def test_bad_number_of_disks(bad):
    with pytest.raises(ParameterError, match="n_disks"):
        make_env("hanoi", n_disks=bad)
