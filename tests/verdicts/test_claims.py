"""Each claim's decision rule (himo.verdicts.claims) on small synthetic measures datasets,
and the runner (himo.verdicts.judging) that judges the registry."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from himo.verdicts import claims as C
from himo.verdicts import judging as J
from himo.verdicts import report


#: The time grid of a fake run: planning times 0 to 10 in steps of 0.01 (resolution 0.01).
FAKE_TIME = np.linspace(0.0, 10.0, 1001)


def fake(priority, path, roles=None, cluster=None, cd_norm=None, cd=None, attrs=None, walls=None,
         cells=None, edges=None, objective=(0.0, 1.0), pmax=None, occupancy=None, time=None):
    """A measures dataset with just what the claims read; ``path`` lists state indices in order.

    ``time`` is the stored time grid (default :data:`FAKE_TIME`, or 0 to 10 in as many
    times as ``cd_norm`` or ``cd`` has rows, when given)."""
    n = len(priority)
    labels = [f"s{i}" for i in range(n)]
    pos = np.full(n, -1)
    pos[list(path)] = np.arange(len(path))
    given = cd_norm if cd_norm is not None else cd
    if time is None:
        time = FAKE_TIME if given is None else np.linspace(0.0, 10.0, np.shape(given)[0])
    time = np.asarray(time, float)
    cd_norm = np.zeros((time.size, n)) if cd_norm is None else np.asarray(cd_norm, float)
    cd = cd_norm if cd is None else np.asarray(cd, float)
    ds = xr.Dataset(
        {
            "priority": ("state", np.asarray(priority, float)),
            "optimal_path_position": ("state", pos),
            "on_optimal_path": ("state", pos >= 0),
            "CD_norm": (("iteration", "state"), cd_norm),
            "CD": (("iteration", "state"), cd),
            "final_occupancy": ("state", np.ones(n) if occupancy is None else np.asarray(occupancy, float)),
            "final_max_probability": ("state", np.ones(n) if pmax is None else np.asarray(pmax, float)),
            "final_action": ("state", np.array(["STOP"] * n)),
            "objective": ("iteration", np.linspace(objective[0], objective[1], cd_norm.shape[0])),
        },
        coords={"state": labels, "iteration": np.arange(cd_norm.shape[0]), "time": ("iteration", time)},
        attrs={"start_state": labels[path[0]], "optimal_objective": 1.0, "stop_reason": "converged",
               "foresight": 0.9, "env_key": "x", "paper_env": "x", "n_iterations": 10, **(attrs or {})},
    )
    for name, members in (roles or {}).items():
        mask = np.zeros(n, np.int8)
        mask[list(members)] = 1
        ds[f"role_{name}"] = ("state", mask)
    if cluster is not None:
        ds["cluster"] = ("state", np.asarray(cluster))
    if walls is not None:
        ds["wall"] = (("row", "col"), np.asarray(walls, np.int8))
        ds["cell_row"] = ("state", np.asarray(cells)[:, 0])
        ds["cell_col"] = ("state", np.asarray(cells)[:, 1])
    if edges is not None:
        ds["edge_source"] = ("edge", np.asarray(edges, dtype=np.int64)[:, 0])
        ds["edge_target"] = ("edge", np.asarray(edges, dtype=np.int64)[:, 1])
    return ds


# Hanoi-like: path s0 s1 | s2 s3 s4=goal; clusters 0 0 1 1 1, bridge (s1, s2); s5 off path (cluster 1)
HANOI = dict(path=[0, 1, 2, 3, 4], roles={"goal": [4], "bottleneck": [1, 2]}, cluster=[0, 0, 1, 1, 1, 1])


def test_H1_both_ways():
    assert C.decide_H1(fake([9, 5, 4, 3, 1, 2], **HANOI))[0] == J.REPLICATED
    assert C.decide_H1(fake([9, 5, 4, 3, 1, 0.5], **HANOI))[0] == J.PARTLY  # off-path s5 first
    assert C.decide_H1(fake([9, 5, 4, 0.5, 1, 2], **HANOI))[0] == J.NOT


def test_H2_both_ways():
    assert C.decide_H2(fake([9, 2, 5, 3, 1, 8], **HANOI))[0] == J.REPLICATED  # bridge s1 second
    assert C.decide_H2(fake([9, 5, 4, 3, 1, 8], **HANOI))[0] == J.NOT  # distance order
    assert C.decide_H2(fake([9, 5, 2.5, 3, 1, 8], **HANOI))[0] == J.REPLICATED  # s2 leads
    assert C.decide_H2(fake([2, 7, 6, 3, 1, 8], path=[0, 1, 2, 3, 4, 5][:5], roles=HANOI["roles"],
                            cluster=HANOI["cluster"]))[0] == J.NOT


def test_H2_partly_jumps_ahead():
    # path s0 s1 | s2 s3 s5 s4: the bridge s2 precedes s5 (downstream) but not s3
    ds = fake([9, 8, 4, 3, 1, 5], path=[0, 1, 2, 3, 5, 4], roles=HANOI["roles"], cluster=HANOI["cluster"])
    verdict, numbers = C.decide_H2(ds)
    assert verdict == J.PARTLY and numbers["bridge_status"]["s2"]["jumps_ahead_of"] == ["s5"]


def test_H3_both_ways():
    assert C.decide_H3(fake([9, 5, 4, 3, 1, 2], **HANOI))[0] == J.REPLICATED
    assert C.decide_H3(fake([5, 5, 4, 3, 1, 2], **HANOI))[0] == J.PARTLY  # tied
    assert C.decide_H3(fake([4.5, 5, 4, 3, 1, 2], **HANOI))[0] == J.NOT


# ------------------------------------------------- near-ties: the resolution of the grid
#: A time grid of step 0.25 (a binary fraction: no difference below is round-off).
QUARTER = np.linspace(0.0, 10.0, 41)


def test_H2_lead_tie_and_order_at_the_resolution():
    """The bridge s1 against the rival s3 on a grid of step 0.25: 1/8 apart they are
    tied (tied for the lead, partly), a full step apart the earlier one precedes."""
    def decide(s1, s3):
        return C.decide_H2(fake([9, s1, 5, s3, 1, 8], time=QUARTER, **HANOI))

    verdict, numbers = decide(2.0, 2.125)  # the bridge earlier, but closer than 0.25
    status = numbers["bridge_status"]["s1"]
    assert verdict == J.PARTLY and status["resolution_to_rival"] == 0.25
    assert not status["leads"] and status["tied_for_lead"] and status["tied_with"] == ["s3"]
    assert C.H2.summarize(numbers)["resolution"] == 0.25 and C.H2.summarize(numbers)["margin"] == 0.125
    assert decide(2.125, 2.0)[0] == J.PARTLY  # the rival earlier, as close: tied all the same
    assert decide(2.0, 2.25)[0] == J.REPLICATED  # one resolution apart: the bridge precedes
    assert decide(2.25, 2.0)[0] == J.NOT  # ... or the rival does
    # at the resolution of a finer grid the same priorities are ordered
    assert C.decide_H2(fake([9, 2.0, 5, 2.125, 1, 8], **HANOI))[0] == J.REPLICATED
    # on a grid whose step grows from 0.25 to 1 at 2.5, the bridge (2.0) and the rival
    # (2.875) are compared at the 1 between them: tied, though 3.5 steps of 0.25 apart
    coarse = np.concatenate([np.linspace(0.0, 2.5, 11), np.arange(3.5, 10.5, 1.0)])
    verdict, numbers = C.decide_H2(fake([9, 2.0, 5, 2.875, 1, 8], time=coarse, **HANOI))
    assert verdict == J.PARTLY and numbers["bridge_status"]["s1"]["resolution_to_rival"] == 1.0
    assert C.decide_H2(fake([9, 2.0, 5, 3.0, 1, 8], time=coarse, **HANOI))[0] == J.REPLICATED


def test_H2_jumps_ahead_only_by_the_resolution():
    """Path s0 s1 | s2 s3 s5 s4: the bridge s2 (4.0) jumps ahead of s5 only when s5 is
    at least 0.25 later."""
    path = dict(path=[0, 1, 2, 3, 5, 4], roles=HANOI["roles"], cluster=HANOI["cluster"], time=QUARTER)
    verdict, numbers = C.decide_H2(fake([9, 8, 4, 3, 1, 4.125], **path))
    assert verdict == J.NOT and numbers["bridge_status"]["s2"]["jumps_ahead_of"] == []
    assert numbers["bridge_status"]["s2"]["tied_with"] == ["s5"]
    verdict, numbers = C.decide_H2(fake([9, 8, 4, 3, 1, 4.25], **path))
    assert verdict == J.PARTLY and numbers["bridge_status"]["s2"]["jumps_ahead_of"] == ["s5"]


def test_ranks_and_order_say_which_priorities_are_tied():
    """On-path priorities s4 1.0, s3 2.0, s2 2.125, s1 2.25, s0 9 at resolution 0.25:
    s3 and s2 are tied, s2 and s1 are tied, but s3 precedes s1 (ties do not chain)."""
    ds = fake([9, 2.25, 2.125, 2.0, 1.0, 8], time=QUARTER, **HANOI)
    assert J.on_path_ties(ds) == {0: [], 1: [2], 2: [1, 3], 3: [2], 4: []}
    assert J.on_path_ranks(ds) == {4: 1, 3: 2, 2: 2, 1: 3, 0: 5}
    assert J.on_path_priority_order(ds) == [["s4", 1.0, 4, 1], ["s3", 2.0, 3, 2], ["s2", 2.125, 2, 2],
                                            ["s1", 2.25, 1, 3], ["s0", 9.0, 0, 5]]
    status = J.lead_status(ds, [1], goal=4)["s1"]
    assert status["tied_with"] == ["s2"] and not status["tied_for_lead"] and status["rank_on_path"] == 3


def test_H1_ties_the_goal_at_the_resolution_between_the_two():
    """The grid has step 0.25 up to 5 and then 2 (times 5, 7, 9, 10): the goal is
    compared with each state at the widest spacing between their two priorities, on
    the path or off it."""
    time = np.concatenate([np.linspace(0.0, 5.0, 21), [7.0, 9.0, 10.0]])

    def decide(goal, s3, s5, s0=4.0, s1=3.5, s2=3.0):
        return C.decide_H1(fake([s0, s1, s2, s3, goal, s5], time=time, **HANOI))

    verdict, numbers = decide(1.0, s3=1.125, s5=2.0)  # s3 closer to the goal than 0.25
    assert verdict == J.PARTLY and numbers["resolution"] == 0.25
    assert numbers["states_tied_with_goal"] == ["s3"] and numbers["states_not_after_goal"] == ["s3"]
    assert decide(1.0, s3=0.875, s5=2.0)[0] == J.PARTLY  # earlier, as close: tied, not after the goal
    assert decide(1.0, s3=1.25, s5=2.0)[0] == J.REPLICATED
    assert decide(1.0, s3=0.75, s5=2.0)[0] == J.NOT
    # a state located on the wide spacing does not coarsen the goal's other comparisons
    assert decide(1.0, s3=1.25, s5=8.0)[0] == J.REPLICATED
    # ... but a state across it from the goal is compared at that spacing: 5.5 - 4.9 < 2
    verdict, numbers = decide(4.9, s3=5.5, s5=9.9, s0=9.8, s1=9.6, s2=9.4)
    assert verdict == J.PARTLY and numbers["resolution"] == 2.0 and numbers["states_tied_with_goal"] == ["s3"]


def test_H3_ties_the_start_at_the_resolution():
    def decide(s0, s1=5.0):
        return C.decide_H3(fake([s0, s1, 4, 3, 1, 2], time=QUARTER, **HANOI))

    verdict, numbers = decide(5.125)
    assert verdict == J.PARTLY and numbers["tied_with_start"] == ["s1"] and numbers["resolution"] == 0.25
    assert numbers["start_rank_on_path"] == 4  # s1 does not precede the start: only s4 s3 s2 do
    assert decide(4.875)[0] == J.PARTLY  # earlier than s1, as close: tied for the latest
    assert decide(5.25)[0] == J.REPLICATED
    assert decide(4.75)[0] == J.NOT


def test_W2_every_claimed_state_must_lead_by_the_resolution():
    path = dict(path=[0, 1, 2, 3, 4], time=QUARTER, **WORM)
    assert C.decide_W2(fake([5, 2, 2.5, 3, 1, 9], **path))[0] == J.REPLICATED
    verdict, numbers = C.decide_W2(fake([5, 2, 2.875, 3, 1, 9], **path))  # the exit 1/8 before s3
    assert verdict == J.PARTLY and numbers["wormhole_status"]["s2"]["tied_with"] == ["s3"]


def test_a_run_without_a_time_grid_is_not_evaluated():
    ds = fake([9, 2, 5, 3, 1, 8], **HANOI).drop_vars("time")
    record = J.judge(C.H2, [ds.assign_attrs(env_key="hanoi", paper_env="hanoi")])
    assert record["verdict"] == J.NOT_EVALUATED and "time grid" in record["numbers"]["reason"]


def test_H4_both_ways():
    up_down = np.array([0.0, 1.0, -1.0])
    up = np.array([0.0, 0.5, 1.0])
    down = np.array([0.0, -0.5, -1.0])
    goal_cluster = [2, 3, 4, 5]
    cdn = np.zeros((3, 6))
    cdn[:, [2, 3, 5]] = up_down[:, None]
    cdn[:, 4] = up
    assert C.decide_H4(fake([9] * 6, cd_norm=cdn, **HANOI))[0] == J.REPLICATED
    cdn[:, goal_cluster] = up[:, None]
    assert C.decide_H4(fake([9] * 6, cd_norm=cdn, **HANOI))[0] == J.NOT
    cdn[:, 5] = down  # never rises
    cdn[:, 3] = up_down
    assert C.decide_H4(fake([9] * 6, cd_norm=cdn, **HANOI))[0] == J.PARTLY


# A corridor of two rooms: cells (1,1) (1,2) | door (1,3) | (1,4) (1,5)=goal; wall (0,3),(2,3) make the door
WALLS = np.ones((3, 7), bool)
WALLS[1, 1:6] = False
WALLS[0, 3] = WALLS[2, 3] = True
CELLS = [[1, c] for c in range(1, 6)]
GRID = dict(path=[0, 1, 2, 3, 4], roles={"goal": [4], "bottleneck": [2]}, walls=WALLS, cells=CELLS,
            edges=[(0, 1), (1, 2), (2, 3), (3, 4)])


def test_goal_room_entries():
    assert C.goal_room_entries(fake([1] * 5, **GRID)) == [2]
    # the doorway enters the goal room only if the state graph joins it to that room
    cut = dict(GRID, edges=[(0, 1), (1, 2)])
    assert C.goal_room_entries(fake([1] * 5, **cut)) == []
    no_graph = dict(GRID, edges=None)
    assert J.judge(C.R1, [fake([5, 4, 2, 3, 1], attrs={"env_key": "fourrooms", "paper_env": "fourrooms"},
                                **no_graph)])["verdict"] == J.NOT_EVALUATED


def test_R1_both_ways():
    assert C.decide_R1(fake([5, 4, 2, 3, 1], **GRID))[0] == J.REPLICATED
    assert C.decide_R1(fake([5, 4, 3, 2, 1], **GRID))[0] == J.NOT


# Wormhole: path s0 s1(entrance) s2(exit) s3 s4=goal; doorway s5 off path
WORM = dict(roles={"goal": [4], "bottleneck": [5], "wormhole_entrance": [1], "wormhole_exit": [2]})


def test_W1_both_ways():
    cd = np.zeros((2, 6))
    cd[1, 5] = -0.2
    assert C.decide_W1(fake([5, 4, 3, 2, 1, 9], path=[0, 1, 2, 3, 4], cd=cd, **WORM))[0] == J.REPLICATED
    assert C.decide_W1(fake([5, 4, 3, 2, 1, 9], path=[0, 5, 3, 4], cd=cd, **WORM))[0] == J.NOT
    cd[1, 5] = 0.1  # the doorway is not avoided
    assert C.decide_W1(fake([5, 4, 3, 2, 1, 9], path=[0, 1, 2, 3, 4], cd=cd, **WORM))[0] == J.PARTLY


def test_W2_both_ways():
    path = dict(path=[0, 1, 2, 3, 4], **WORM)
    assert C.decide_W2(fake([5, 2, 2.5, 3, 1, 9], **path))[0] == J.REPLICATED
    assert C.decide_W2(fake([5, 4, 3, 2, 1, 9], **path))[0] == J.NOT
    assert C.decide_W2(fake([5, 4, 2, 3, 1, 9], **path))[0] == J.PARTLY  # exit leads, entrance does not


def test_G1_both_ways():
    good = fake([2, 1], path=[0, 1], roles={"goal": [1]})
    assert C.decide_G1([good])[0] == J.REPLICATED
    mixed = fake([2, 1], path=[0, 1], roles={"goal": [1]}, pmax=[0.5, 1.0])
    assert C.decide_G1([good, mixed])[0] == J.PARTLY
    poor = fake([2, 1], path=[0, 1], roles={"goal": [1]}, objective=(0.0, 0.9))
    assert C.decide_G1([good, poor])[0] == J.NOT


def runs():
    hanoi = fake([9, 2, 5, 3, 1, 8], attrs={"env_key": "hanoi", "paper_env": "hanoi"}, **HANOI)
    variant = fake([9, 5, 4, 3, 1, 8], attrs={"env_key": "hanoi-lam0.8", "paper_env": "hanoi",
                                               "foresight": 0.8}, **HANOI)
    grid = fake([5, 4, 2, 3, 1], attrs={"env_key": "fourrooms", "paper_env": "fourrooms"}, **GRID)
    return [variant, grid, hanoi]


IDS = sorted(claim.id for claim in C.CLAIMS)


def test_evaluate_claims_every_id_and_robustness():
    records = J.evaluate_claims(C.CLAIMS, runs())
    assert sorted(records) == IDS
    for cid, r in records.items():
        assert {"id", "figure", "statement", "verdict", "definition", "numbers", "robustness",
                "choices"} <= set(r), cid
        assert r["verdict"] in J.VERDICTS
    assert records["H2"]["run"] == "hanoi"
    assert records["H2"]["robustness"]["hanoi"]["verdict"] == J.REPLICATED
    assert records["H2"]["robustness"]["hanoi-lam0.8"]["verdict"] == J.NOT
    assert records["H2"]["robustness"]["hanoi-lam0.8"]["foresight"] == 0.8
    assert records["W1"]["verdict"] == J.NOT_EVALUATED  # no wormhole run
    assert records["W1"]["numbers"] == {"reason": "no run with paper_env 'wormhole'"}


@pytest.mark.slow
def test_claims_json_schema_and_determinism():
    text = report.claims_json(J.evaluate_claims(C.CLAIMS, runs()))
    again = report.claims_json(J.evaluate_claims(C.CLAIMS, list(reversed(runs()))))
    assert text == again
    data = json.loads(text)
    assert sorted(data) == IDS
    assert all(data[c]["id"] == c for c in data)
    md = report.claims_markdown(J.evaluate_claims(C.CLAIMS, runs()))
    assert all(f"| {c} |" in md for c in IDS)


def test_clean_rounds_and_nulls():
    assert report._clean({"a": np.float64(1.23456789), "b": float("nan"), "c": np.int64(3)}) == \
        {"a": 1.23457, "b": None, "c": 3}


def test_G1_main_verdict_uses_default_runs_and_variants_go_to_robustness():
    main = fake([2, 1], path=[0, 1], roles={"goal": [1]}, attrs={"env_key": "hanoi", "paper_env": "hanoi"})
    poor_variant = fake([2, 1], path=[0, 1], roles={"goal": [1]}, objective=(0.0, 0.9),
                        attrs={"env_key": "hanoi-lam0.8", "paper_env": "hanoi", "foresight": 0.8})
    user = fake([2, 1], path=[0, 1], roles={"goal": [1]}, attrs={"env_key": "maze", "paper_env": ""})
    record = J.evaluate_claims(C.CLAIMS, [main, poor_variant, user])["G1"]
    assert record["verdict"] == J.REPLICATED
    assert record["runs"] == ["hanoi", "maze"]
    assert record["robustness"]["hanoi-lam0.8"]["verdict"] == J.NOT


# ------------------------------------------------------------- the registry
def decide_toy(ds):
    """A toy claim: the start's priority is finite."""
    start = J.require_start(ds)
    finite = bool(np.isfinite(J.priorities(ds)[start]))
    return (J.REPLICATED if finite else J.NOT), {"start_priority": float(J.priorities(ds)[start])}


TOY = J.Claim(id="T1", figure="9", paper_env="hanoi", paper_text="The start has a priority.",
              definition="replicated: the start has a priority. not replicated: otherwise.", decide=decide_toy)


@pytest.mark.slow
def test_a_claim_added_to_the_registry_is_judged_and_written():
    registry = C.CLAIMS + (TOY,)
    records = J.evaluate_claims(registry, runs())
    toy = records["T1"]
    assert toy["verdict"] == J.REPLICATED and toy["run"] == "hanoi"
    assert toy["numbers"] == {"start_priority": 9.0}
    assert toy["statement"] == TOY.paper_text and toy["definition"] == TOY.definition
    assert set(toy["robustness"]) == {"hanoi", "hanoi-lam0.8"}
    assert json.loads(report.claims_json(records))["T1"]["verdict"] == J.REPLICATED
    md = report.claims_markdown(records)
    assert "## T1 (Fig. 9): replicated" in md and TOY.definition in md
    reference = report.claims_reference(registry)
    assert "### T1 (Fig. 9)" in reference and TOY.paper_text in reference
    # the other claims are judged as without it
    assert {k: v for k, v in records.items() if k != "T1"} == J.evaluate_claims(C.CLAIMS, runs())


def test_registry_errors():
    with pytest.raises(ValueError, match="unique"):
        J.evaluate_claims(C.CLAIMS + (C.H1,), runs())
    odd = J.Claim(id="T2", figure="9", paper_env="hanoi", paper_text="", definition="",
                  decide=lambda ds: ("sort of", {}))
    with pytest.raises(ValueError, match="sort of"):
        J.evaluate_claims((odd,), runs())
    missing = J.Claim(id="T3", figure="9", paper_env="hanoi", paper_text="", definition="",
                      decide=lambda ds: J.require_goal(ds.drop_vars("role_goal")))
    record = J.evaluate_claims((missing,), runs())["T3"]
    assert record["verdict"] == J.NOT_EVALUATED and record["numbers"] == {"reason": "the run has no role 'goal'"}


def test_W1_gets_the_fourrooms_run_of_its_choices():
    """The reference run has the same choices (here: the foresight); under each
    priority definition the same pairs."""
    seen = []
    spy = J.Claim(id="T4", figure="9", paper_env="wormhole", paper_text="", definition="",
                  decide=lambda ds, reference: seen.append((ds.attrs["env_key"], reference and reference.attrs["env_key"]))
                  or (J.REPLICATED, {}), runs=C.W1.runs, order_based=False)  # no null: count the runs only
    wormholes = [fake([1, 2], path=[0, 1], attrs={"env_key": key, "paper_env": "wormhole", "foresight": lam})
                 for key, lam in (("wormhole", 0.9), ("wormhole-lam0.8", 0.8), ("wormhole-lam0.5", 0.5))]
    rooms = [fake([1, 2], path=[0, 1], attrs={"env_key": key, "paper_env": "fourrooms", "foresight": lam})
             for key, lam in (("fourrooms-lam0.8", 0.8), ("fourrooms", 0.9))]
    J.evaluate_claims((spy,), wormholes + rooms)
    n = len(J.PRIORITY_DEFINITIONS)
    assert seen[:n] == [("wormhole", "fourrooms")] * n  # the main run
    assert sorted(set(seen[n:])) == [("wormhole", "fourrooms"), ("wormhole-lam0.5", None),
                                     ("wormhole-lam0.8", "fourrooms-lam0.8")]
    assert len(seen) == n * 4
