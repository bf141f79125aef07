"""Tower of Hanoi as an MDP (paper Fig. 1).

``n_disks`` disks of distinct sizes sit on three pegs 0, 1, 2; a move takes the top
disk of one peg onto another peg whose top disk is larger (or which is empty).
Start S: all disks on peg 0; goal G: all disks on peg 2 (the classic puzzle, shortest
path ``2**n_disks - 1`` moves). Besides the legal moves (three per state, two in the
three states where all disks sit on one peg) the agent can remain where it is: the
STOP action. Remaining at G earns ``goal_reward`` on every step, "since it can then
accumulate further reward on every time step" (paper section 4); every other pair
earns ``step_reward`` (0 in the paper's setting).

States are labelled by the peg of each disk, largest disk first: ``"000"`` is S and
``"222"`` is G for three disks. Actions are labelled ``"a->b"`` (move the top disk of
peg a to peg b) and ``"STOP"``.

The state graph is a Sierpinski triangle: the position of the largest disk splits the
states into three clusters of ``3**(n_disks-1)`` states, joined by three single edges
(the moves of the largest disk). The six states at the ends of those edges are the
``bottleneck`` states. The layout places each state on that triangle.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from himo.envs import register_env
from himo.errors import ParameterError
from himo.mdp import MDP

N_PEGS = 3
MOVES = [(a, b) for a in range(N_PEGS) for b in range(N_PEGS) if a != b]
ACTION_LABELS = tuple(f"{a}->{b}" for a, b in MOVES) + ("STOP",)
STOP = len(MOVES)
#: The corners of the Sierpinski triangle, one per peg (x right, y up).
CORNERS = np.array([[0.0, 0.0], [1.0, 0.0], [0.5, np.sqrt(3) / 2]])


@register_env("hanoi")
def build_hanoi(n_disks: int = 3, goal_reward: float = 1.0, step_reward: float = 0.0) -> MDP:
    """The Tower of Hanoi with ``n_disks`` disks, the STOP action and reward at G."""
    if not isinstance(n_disks, (int, np.integer)) or not 1 <= n_disks <= 15:
        raise ParameterError(f"hanoi: n_disks must be an integer in 1..15, got {n_disks!r}")
    pegs = disk_pegs(n_disks)  # (n_states, n_disks), column k = disk of size rank k
    n_states = pegs.shape[0]
    codes = np.arange(n_states)
    top = _top_disks(pegs)  # (n_states, 3) smallest disk on each peg, n_disks if empty

    pair_state, pair_action, next_state = [], [], []
    for action, (a, b) in enumerate(MOVES):
        legal = top[:, a] < top[:, b]
        moved = top[legal, a]
        pair_state.append(codes[legal])
        pair_action.append(np.full(legal.sum(), action))
        next_state.append(codes[legal] + (b - a) * 3**moved)
    pair_state.append(codes)
    pair_action.append(np.full(n_states, STOP))
    next_state.append(codes)
    pair_state, pair_action, next_state = map(np.concatenate, (pair_state, pair_action, next_state))

    goal = n_states - 1  # all disks on peg 2
    reward = np.where((pair_state == goal) & (pair_action == STOP), goal_reward, step_reward)
    P = sp.csr_matrix(
        (np.ones(pair_state.size), (np.arange(pair_state.size), next_state)),
        shape=(pair_state.size, n_states),
    )
    largest = pegs[:, -1]
    return MDP.from_pairs(
        name="hanoi",
        state_labels=[_label(row) for row in pegs],
        action_labels=ACTION_LABELS,
        pair_state=pair_state,
        pair_action=pair_action,
        P=P,
        R=reward,
        start=0,
        layout=sierpinski_layout(pegs),
        roles={"goal": codes == goal, "bottleneck": _bottlenecks(pegs)},
        cluster=largest,
        attrs={
            "title": f"Tower of Hanoi, {n_disks} disks",
            "n_disks": int(n_disks),
            "goal_reward": float(goal_reward),
            "step_reward": float(step_reward),
            "cluster_meaning": "peg of the largest disk",
        },
    )


def disk_pegs(n_disks: int) -> np.ndarray:
    """``(3**n_disks, n_disks)``: row ``code`` holds the peg of each disk.

    Column k is the disk of size rank k (0 = smallest), so that
    ``code = sum_k peg_k * 3**k``.
    """
    codes = np.arange(N_PEGS**n_disks)
    return (codes[:, None] // N_PEGS ** np.arange(n_disks)[None, :]) % N_PEGS


def _top_disks(pegs: np.ndarray) -> np.ndarray:
    n_states, n_disks = pegs.shape
    top = np.full((n_states, N_PEGS), n_disks)
    for k in range(n_disks - 1, -1, -1):  # smaller disks overwrite larger ones
        top[np.arange(n_states), pegs[:, k]] = k
    return top


def _bottlenecks(pegs: np.ndarray) -> np.ndarray:
    """States where the largest disk can move: all smaller disks on one other peg."""
    largest, rest = pegs[:, -1], pegs[:, :-1]
    if rest.shape[1] == 0:
        return np.ones(pegs.shape[0], dtype=bool)
    together = np.all(rest == rest[:, :1], axis=1)
    return together & (rest[:, 0] != largest)


def _label(row: np.ndarray) -> str:
    return "".join(str(p) for p in row[::-1])


def sierpinski_layout(pegs: np.ndarray) -> np.ndarray:
    """Place each state on the Sierpinski triangle of the Hanoi graph.

    The largest disk picks one of three half-size sub-triangles; within it, the two
    pegs the largest disk is not on swap their corners, so that the states joined by
    a move of the largest disk face each other across the gap.
    """
    n_states, n_disks = pegs.shape
    corner_of_peg = np.tile(np.arange(N_PEGS), (n_states, 1))
    xy = np.zeros((n_states, 2))
    rows = np.arange(n_states)
    for level, k in enumerate(range(n_disks - 1, -1, -1)):
        peg = pegs[:, k]
        xy += CORNERS[corner_of_peg[rows, peg]] / 2 ** (level + 1)
        others = (peg[:, None] + np.array([1, 2])[None, :]) % N_PEGS
        c1 = corner_of_peg[rows, others[:, 0]].copy()
        corner_of_peg[rows, others[:, 0]] = corner_of_peg[rows, others[:, 1]]
        corner_of_peg[rows, others[:, 1]] = c1
    return xy
