"""W3 (the shortcut from the earliest stages) and N1 (HIMO beside the state-averaged
natural gradient) on hand-made measures, their causes of partly, and the run selection
that pairs each HIMO run with its Kakade run."""

from __future__ import annotations

import numpy as np
from test_claims import WORM, fake

from himo.verdicts import claims as C
from himo.verdicts import judging as J

# the wormhole of test_claims: path s0 s1(entrance) s2(exit) s3 s4=goal; doorway s5 off the path
PATH = dict(path=[0, 1, 2, 3, 4], **WORM)


def cd_with(door_rise: float) -> np.ndarray:
    cd = np.zeros((3, 6))
    cd[1, 5] = door_rise  # the doorway's CD~ in the middle of the run
    cd[2, 5] = -1.0
    return cd


def test_W3_both_ways_and_its_causes():
    early, late = [5, 2, 2.5, 3, 1, 9], [5, 9, 2.5, 3, 1, 2]  # the entrance before / after the doorway
    assert C.decide_W3(fake(early, cd_norm=cd_with(0.0), **PATH))[0] == J.REPLICATED
    verdict, numbers = C.decide_W3(fake(early, cd_norm=cd_with(0.5), **PATH))
    assert verdict == J.PARTLY and numbers["n_doorways_gaining_mass"] == 1
    assert C.W3.partly_because(numbers).startswith(J.SOME_OF_THE_STATES) and "s5 gains mass" in C.W3.partly_because(numbers)
    verdict, numbers = C.decide_W3(fake(late, cd_norm=cd_with(0.0), **PATH))
    assert verdict == J.PARTLY and numbers["n_doorways_after_entrance"] == 0
    assert C.decide_W3(fake(late, cd_norm=cd_with(0.5), **PATH))[0] == J.NOT
    # a rise below the round-off guard is no rise
    assert C.decide_W3(fake(early, cd_norm=cd_with(C.RISE_TOL / 2), **PATH))[0] == J.REPLICATED


def npg_pair(himo_priorities, npg_priorities, key="hanoi"):
    """A HIMO run and a kakade run on the same path s0 .. s3 (goal s3)."""
    common = dict(path=[0, 1, 2, 3], roles={"goal": [3]})
    himo = fake(himo_priorities, attrs={"env_key": key, "paper_env": "hanoi", "method": "natural"}, **common)
    npg = fake(npg_priorities, attrs={"env_key": f"{key}-kakade", "paper_env": "hanoi", "method": "kakade"},
               **common)
    return himo, npg


def test_N1_counts_the_pairs_ordered_the_other_way_round():
    """On HIMO's time grid of 0.01 the NPG's priorities, a tenth of HIMO's (lambda 0.9:
    times 1/(1 - lambda) is HIMO's clock), order the states alike: not replicated."""
    himo, npg = npg_pair([4.0, 3.0, 2.0, 1.0], [0.4, 0.3, 0.2, 0.1])
    verdict, numbers = C.decide_N1([(himo, npg)])
    run = numbers["runs"]["hanoi"]
    assert verdict == J.NOT and run["pairs_alike"] == 6 and run["pairs_reversed"] == 0
    assert run["median_relative_priority_difference"] < 1e-15
    himo, npg = npg_pair([4.0, 3.0, 2.0, 1.0], [0.4, 0.2, 0.3, 0.1])  # s1 and s2 swapped
    verdict, numbers = C.decide_N1([(himo, npg)])
    assert verdict == J.REPLICATED and numbers["runs"]["hanoi"]["reversed_pairs"] == ["s1-s2"]
    # tied in one run is neither alike nor reversed
    himo, npg = npg_pair([4.0, 3.0, 2.0, 1.0], [0.4, 0.3, 0.3, 0.1])
    run = C.decide_N1([(himo, npg)])[1]["runs"]["hanoi"]
    assert (run["pairs_alike"], run["pairs_reversed"], run["pairs_ordered_by_one_only"]) == (5, 0, 1)


def test_N1_partly_when_some_environments_differ():
    same = npg_pair([4.0, 3.0, 2.0, 1.0], [0.4, 0.3, 0.2, 0.1], key="a")
    swapped = npg_pair([4.0, 3.0, 2.0, 1.0], [0.4, 0.2, 0.3, 0.1], key="b")
    verdict, numbers = C.decide_N1([same, swapped])
    assert verdict == J.PARTLY and C.N1.partly_because(numbers) == f"{J.SOME_OF_THE_STATES}: the orders differ on b"


def test_beside_method_pairs_each_himo_run_with_its_kakade_run():
    """The main run and a foresight variant each get the kakade run of their own
    foresight; a gradient run and a HIMO run without a counterpart get none."""
    def run(key, method, lam):
        return fake([2.0, 1.0], path=[0, 1], roles={"goal": [1]},
                    attrs={"env_key": key, "paper_env": "hanoi", "method": method, "foresight": lam, "step": 0.1})

    runs = [run("hanoi", "newton", 0.9), run("hanoi-lam0.8", "natural", 0.8), run("hanoi-lam0.5", "natural", 0.5),
            run("hanoi-gradient-lam0.9", "gradient", 0.9),
            run("hanoi-kakade-lam0.8", "kakade", 0.8), run("hanoi-kakade-lam0.9", "kakade", 0.9)]
    selection = J.BesideMethod("kakade")(C.N1, runs)
    (pairs,) = selection.main
    assert [(a.attrs["env_key"], b.attrs["env_key"]) for a, b in pairs] == [("hanoi", "hanoi-kakade-lam0.9")]
    assert sorted(selection.variants) == ["hanoi", "hanoi-lam0.8"]
    (pair,) = selection.variants["hanoi-lam0.8"][1][0]
    assert pair[1].attrs["env_key"] == "hanoi-kakade-lam0.8"
    assert J.BesideMethod("kakade")(C.N1, runs[:4]).main is None  # no kakade run: not evaluated
    # a HIMO run of another placement is never set beside a kakade run of the main placement
    inroom = fake([2.0, 1.0], path=[0, 1], roles={"goal": [1]}, attrs={
        "env_key": "hanoi-inroom-lam0.8", "paper_env": "hanoi", "method": "natural", "foresight": 0.8, "step": 0.1})
    inroom.attrs["start_state"] = "s1"  # starts elsewhere: another placement
    assert "hanoi-inroom-lam0.8" not in J.BesideMethod("kakade")(C.N1, runs + [inroom]).variants


def test_an_off_path_doorway_is_judged_as_if_its_route_had_been_taken():
    """R1's second entry doorway (s5, off the path) against the on-path states but the
    goal and the on-path doorway it stands in for (s2): ahead of all, tied, behind."""
    path = dict(path=[0, 1, 2, 3, 4], roles={"goal": [4], "bottleneck": [2, 5]})
    ahead = J.lead_off_path(fake([5, 4, 2, 3, 1, 1.5], **path), 5, goal=4, excluded=[2])
    assert ahead["leads"] and not ahead["tied_for_lead"]
    # 3.0 and 3.001 are within the 0.01 grid: tied with s3, not behind it
    tied = J.lead_off_path(fake([5, 4, 2, 3, 1, 3.001], **path), 5, goal=4, excluded=[2])
    assert not tied["leads"] and tied["tied_for_lead"] and tied["tied_with"] == ["s3"]
    behind = J.lead_off_path(fake([5, 4, 2, 3, 1, 4.5], **path), 5, goal=4, excluded=[2])
    assert not behind["leads"] and not behind["tied_for_lead"]
