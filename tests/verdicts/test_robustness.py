"""The robustness atlas (himo.verdicts.robustness) and what it rests on in the runner
(himo.verdicts.judging): every claim on every run under each priority definition, the
runs' choices read from their attributes, the groups, the tidy tables and their bytes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from himo.errors import HimoError
from himo.io import csv_text, read_csv
from himo.verdicts import claims as C
from himo.verdicts import judging as J
from himo.verdicts import report
from himo.verdicts import robustness as R
from test_claims import HANOI, fake

MAIN_ATTRS = {"method": "newton", "foresight": 0.9, "step": 0.1, "e_form": "exact", "dependent_rule": "argmax",
              "env_goal_reward": 1.0, "env_step_reward": 0.0}


def hanoi_run(key, priority, half=None, **attrs):
    """A Hanoi-like run (path s0 s1 | s2 s3 s4=goal, bridge s1 s2) named ``key``."""
    ds = fake(priority, attrs={"env_key": key, "paper_env": "hanoi", **MAIN_ATTRS, **attrs}, **HANOI)
    if half is not None:
        ds["priority_half"] = ("state", np.asarray(half, float))
    return ds


# The main run: the bridge s1 is second (H2 replicated); under PD~ = 1/2 s3 is (H2 not).
MAIN = dict(priority=[9, 2, 5, 3, 1, 8], half=[9, 4, 5, 3, 1, 8])
# A foresight variant whose key says nothing true: the attributes are what count.
VARIANT = dict(priority=[9, 5, 4, 3, 1, 8], half=[9, 5, 4, 3, 1, 8])


def atlas_runs():
    return [
        hanoi_run("hanoi", **MAIN),
        hanoi_run("hanoi-misleading-name", **VARIANT, foresight=0.95, method="natural"),
        hanoi_run("hanoi-rule", **MAIN, method="multiplicative"),
        hanoi_run("hanoi-gradient", **MAIN, method="gradient", foresight=0.8),
        hanoi_run("hanoi-stepcost", **MAIN, env_goal_reward=0.0, env_step_reward=-1.0),
        hanoi_run("hanoi-old", priority=MAIN["priority"], foresight=0.97),  # no priority_half
    ]


# ------------------------------------------------------------ the runner's part
def test_every_claim_is_judged_on_every_run_under_each_definition():
    records = J.evaluate_claims(C.CLAIMS, atlas_runs())
    h2 = records["H2"]
    assert h2["verdict"] == J.REPLICATED and h2["priority"] == J.PAPER_PRIORITY
    assert h2["verdict_by_priority"] == {"peak": J.REPLICATED, "half": J.NOT}
    assert set(h2["robustness"]) == {ds.attrs["env_key"] for ds in atlas_runs()}
    for run in h2["robustness"].values():
        assert set(run["verdict_by_priority"]) == set(J.PRIORITY_DEFINITIONS)
        assert run["verdict"] == run["verdict_by_priority"][J.PAPER_PRIORITY]
    # a run without the alternative's variable: the claims that read priorities are not evaluated
    old = h2["robustness"]["hanoi-old"]
    assert old["verdict_by_priority"]["half"] == J.NOT_EVALUATED
    assert "priority" in old["numbers_by_priority"]["half"]["reason"]
    # ... and those that do not (H4: CD; G1: the value) are judged as under the paper's
    for cid in ("H4", "G1"):
        v = records[cid]["robustness"]["hanoi-old"]["verdict_by_priority"]
        assert v["half"] == v["peak"] != J.NOT_EVALUATED


def test_with_priority_views_the_definition_without_copying():
    ds = hanoi_run("hanoi", **MAIN)
    view = J.with_priority(ds, "half")
    np.testing.assert_array_equal(view["priority"].values, MAIN["half"])
    np.testing.assert_array_equal(ds["priority"].values, MAIN["priority"])  # the run is unchanged
    assert J.with_priority(ds, "peak") is ds
    assert "priority" not in J.with_priority(ds.drop_vars("priority_half"), "half")


def test_choices_are_read_from_the_attributes_not_the_key():
    runs = atlas_runs()
    choices = J.choices(runs[1])
    assert choices["foresight"] == 0.95 and choices["method"] == "natural"
    assert choices["placement"] == "s0 to s4"
    assert isinstance(J.choices(runs[0])["foresight"], float)


def test_varied_choices_against_the_main_run():
    runs = {ds.attrs["env_key"]: ds for ds in atlas_runs()}
    main = runs["hanoi"]
    # newton and natural are one method (the same iterates): only the foresight varies
    assert J.varied_choices(runs["hanoi-misleading-name"], main) == ["foresight"]
    assert J.varied_choices(runs["hanoi-rule"], main) == ["method"]
    assert J.varied_choices(runs["hanoi-gradient"], main) == ["method", "foresight"]
    assert J.varied_choices(runs["hanoi-stepcost"], main) == ["goal_reward", "step_reward"]
    assert J.varied_choices(main, main) == [] and J.varied_choices(main, None) == []
    moved = fake(MAIN["priority"], path=[1, 2, 3, 4], roles=HANOI["roles"], cluster=HANOI["cluster"],
                 attrs={"env_key": "hanoi-moved", "paper_env": "hanoi", **MAIN_ATTRS})
    assert J.varied_choices(moved, main) == ["placement"]


def test_the_reference_run_has_the_same_choices():
    rooms = [fake([1, 2], path=[0, 1], attrs={"env_key": key, "paper_env": "fourrooms", **MAIN_ATTRS, **attrs})
             for key, attrs in (("fourrooms", {}), ("fourrooms-g", {"method": "gradient"}),
                                ("fourrooms-moved", {}))]
    moved = {k: v for k, v in rooms[2].attrs.items() if k != "start_state"}
    rooms[2] = fake([1, 2], path=[1, 0], attrs=moved)  # starts elsewhere
    worm = fake([1, 2], path=[1, 0], attrs={"env_key": "w", "paper_env": "wormhole", **MAIN_ATTRS})
    assert J.reference_run(worm, rooms) is rooms[2]  # same choices, the same placement
    worm_g = fake([1, 2], path=[0, 1], attrs={**worm.attrs, "method": "gradient"})
    assert J.reference_run(worm_g, rooms) is rooms[1]
    worm_new = fake([1, 2], path=[0, 1], attrs={**worm.attrs, "step": 1.0})
    assert J.reference_run(worm_new, rooms) is None


# ------------------------------------------------------------------ the groups
@pytest.mark.parametrize("varied, method, group, variant", [
    ([], "newton", "main", "main"),
    (["foresight"], "natural", "foresight", "0.95"),
    (["step"], "natural", "step", "1"),
    (["e_form"], "newton", "E form", "printed"),
    (["goal_reward", "step_reward"], "natural", "reward", "goal 0, step -1"),
    (["method"], "multiplicative", "step rule", "multiplicative"),
    (["method"], "gradient", "method", "gradient 0.95"),
    (["method", "foresight"], "softmax", "method", "softmax 0.95"),
    (["dependent_rule"], "natural", "dependent rule", "last"),
    (["placement"], "natural", "placement", "r2c3 to r9c10"),
    (["step", "foresight"], "natural", "step+foresight", "1, 0.95"),
    (["seed"], "natural", "prior", "HIMO 0.95"),
    (["foresight", "seed"], "newton", "prior", "HIMO 0.95"),
    (["method", "foresight", "seed"], "gradient", "prior", "gradient 0.95"),
])
def test_groups_and_variants(varied, method, group, variant):
    run = {"varied": varied, "method": method, "foresight": 0.95, "step": 1, "e_form": "printed",
           "goal_reward": 0.0, "step_reward": -1.0, "dependent_rule": "last", "placement": "r2c3 to r9c10",
           "seed": 3}
    assert R.group_of(run) == group and R.variant_of(run) == variant


# ------------------------------------------------------------------ the tables
def test_robustness_table_one_row_per_claim_run_and_definition():
    runs = atlas_runs()
    records = J.evaluate_claims(C.CLAIMS, runs)
    rows = R.robustness_table(records, C.CLAIMS)
    n_hanoi_claims = sum(c.paper_env == "hanoi" for c in C.CLAIMS) + 1  # and G1
    assert len(rows) == n_hanoi_claims * len(runs) * len(J.PRIORITY_DEFINITIONS)
    assert all(set(row) <= set(R.ROBUSTNESS_COLUMNS) for row in rows)
    for row in rows:
        record = records[row["claim"]]["robustness"][row["env_key"]]
        assert row["verdict"] == record["verdict_by_priority"][row["priority"]]
        assert row["foresight"] == record["foresight"]
    by = {(r["claim"], r["env_key"], r["priority"]): r for r in rows}
    main = by[("H2", "hanoi", "peak")]
    assert main["group"] == "main" and main["subject"] == "s1 s2" and main["subject_rank"] == 2
    assert main["rival"] == "s3" and main["margin"] == pytest.approx(1.0)
    assert main["resolution"] == pytest.approx(0.01) and "resolution" in R.ROBUSTNESS_COLUMNS
    assert by[("H1", "hanoi", "peak")]["resolution"] == pytest.approx(0.01)
    assert "resolution" not in by[("H4", "hanoi", "peak")]  # H4 compares no priorities
    half = by[("H2", "hanoi", "half")]
    assert half["verdict"] == J.NOT and half["rival"] == "s3" and half["margin"] == pytest.approx(-1.0)
    assert by[("H2", "hanoi-misleading-name", "peak")]["group"] == "foresight"
    assert by[("H2", "hanoi-misleading-name", "peak")]["variant"] == "0.95"
    assert by[("H2", "hanoi-old", "half")].get("subject") is None  # not evaluated: no numbers
    # sorted: claims in the registry's order, groups in the atlas's
    claims_order = [c.id for c in C.CLAIMS]
    assert [claims_order.index(r["claim"]) for r in rows] == sorted(claims_order.index(r["claim"]) for r in rows)


def test_every_claim_summary_uses_the_summary_fields():
    records = J.evaluate_claims(C.CLAIMS, atlas_runs())
    for claim in C.CLAIMS:
        assert claim.summarize is not None and claim.summary, claim.id
        for run in records[claim.id]["robustness"].values():
            for numbers in run["numbers_by_priority"].values():
                if "reason" not in numbers:
                    assert set(claim.summarize(numbers)) <= set(J.SUMMARY_FIELDS), claim.id


def test_csv_bytes_are_deterministic_and_read_back(tmp_path):
    runs = atlas_runs()
    text = csv_text(R.robustness_table(J.evaluate_claims(C.CLAIMS, runs), C.CLAIMS), R.ROBUSTNESS_COLUMNS)
    again = csv_text(R.robustness_table(J.evaluate_claims(C.CLAIMS, runs[::-1]), C.CLAIMS), R.ROBUSTNESS_COLUMNS)
    assert text == again
    (tmp_path / "t.csv").write_text(text)
    rows = read_csv(tmp_path / "t.csv", needs=R.ROBUSTNESS_COLUMNS)
    assert list(rows[0]) == list(R.ROBUSTNESS_COLUMNS)
    assert csv_text([{"a": 1 / 3, "b": float("nan"), "c": True, "d": None, "e": np.int64(2)}], "abcde") == \
        "a,b,c,d,e\n0.333333,,true,,2\n"


def test_csv_quotes_and_escapes_text_and_reads_it_back(tmp_path):
    """A text with a comma, a quote or a newline is quoted, its quotes doubled (the csv module's
    rules), and read back as it was; a missing column or file is one error naming the file."""
    rows = [{"a": 'say "hi", twice', "b": "two\nlines"}, {"a": "plain", "b": ""}]
    text = csv_text(rows, ["a", "b"])
    assert text.splitlines()[1] == '"say ""hi"", twice","two'
    path = tmp_path / "q.csv"
    path.write_text(text)
    assert read_csv(path, needs=["a", "b"]) == rows
    with pytest.raises(HimoError, match=r"q\.csv: the table misses the column\(s\) c"):
        read_csv(path, needs=["a", "c"])
    with pytest.raises(HimoError, match="nothing.csv"):
        read_csv(tmp_path / "nothing.csv")


def test_rank_table_has_the_ranks_the_claims_read():
    runs = atlas_runs()
    records = J.evaluate_claims(C.CLAIMS, runs)
    rows = R.rank_table(runs, records, C.CLAIMS)
    main = [r for r in rows if r["env_key"] == "hanoi" and r["priority"] == "peak"]
    assert [r["state"] for r in main] == ["s0", "s1", "s2", "s3", "s4"]  # path order
    assert {r["state"]: r["rank"] for r in main} == {"s0": 5, "s1": 2, "s2": 4, "s3": 3, "s4": 1}
    assert {r["state"]: r["role"] for r in main} == {"s0": "start", "s1": "", "s2": "", "s3": "", "s4": "goal"}
    assert {r["state"]: r["claimed_by"] for r in main}["s1"] == "H2"
    assert {r["state"]: r["steps_to_goal"] for r in main} == {"s0": 4, "s1": 3, "s2": 2, "s3": 1, "s4": 0}
    # the run without priority_half has rows under the paper's definition only
    assert {r["priority"] for r in rows if r["env_key"] == "hanoi-old"} == {"peak"}
    half = {r["state"]: r["rank"] for r in rows if r["env_key"] == "hanoi" and r["priority"] == "half"}
    assert half["s1"] == 3
    assert {r["tied_with"] for r in main} == {""}  # a grid of 0.01 ties none of them
    # each run's method family, and whether it is one of the runs compared by foresight (the figure's lines):
    # the main run, the foresight variants and the gradient run; not the multiplicative step rule (of no
    # family) nor the step-cost rewards (another environment)
    by_run = {r["env_key"]: (r["family"], r["compared"]) for r in rows}
    assert by_run == {"hanoi": ("HIMO", True), "hanoi-misleading-name": ("HIMO", True),
                      "hanoi-rule": ("", False), "hanoi-gradient": ("gradient", True),
                      "hanoi-stepcost": ("HIMO", False), "hanoi-old": ("HIMO", True)}


def hanoi_measures(step: float, stored: int | None = None):
    """The measures of a real HIMO run on the Tower of Hanoi (foresight 0.9), with a
    storage budget of ``stored`` iterations (None: the default, which keeps them all)."""
    import himo
    from himo.measures.dataset import measures_dataset
    from himo.solver.storage import MB, iteration_bytes

    mdp = himo.make_env("hanoi")
    budget = {} if stored is None else {"storage_budget": stored * iteration_bytes(mdp) / MB}
    ds = measures_dataset(himo.solve(mdp, lam=0.9, method="natural", step=step, **budget), mdp)
    return ds.assign_attrs(env_key="hanoi", paper_env="hanoi", **MAIN_ATTRS)


def brute_force_ties(time, priority_of: dict) -> dict:
    """``{label: [labels closer than the widest grid spacing between the two]}``: the
    rule computed directly from the grid, not by himo.measures.orders."""
    spacing = np.diff(time)

    def resolution(a, b):
        low, high = min(a, b), max(a, b)
        return spacing[(time[1:] >= low) & (time[:-1] <= high)].max()

    return {label: [other for other, q in priority_of.items() if other != label and abs(p - q) < resolution(p, q)]
            for label, p in priority_of.items()}


@pytest.mark.slow
@pytest.mark.parametrize("step, stored", [(1.0, None), (0.1, 40)])
def test_the_claims_and_the_rank_table_agree_on_a_real_run(step, stored):
    """One rule: on a real run (step 1, which ties on-path priorities; and step 0.1
    thinned to an uneven grid by a budget of 40 iterations), under each priority definition, the claims' ranks and
    ties are those of the rank table, the ranks those the measures store
    (priority_rank + 1), and the ties those of the rule computed from the grid by
    brute force."""
    ds = hanoi_measures(step, stored)
    assert (ds.attrs["thinning_passes"] > 0) == (stored is not None)
    time = ds["time"].values
    records = J.evaluate_claims(C.CLAIMS, [ds])
    rows = R.rank_table([ds], records, C.CLAIMS)
    n_ties = 0
    for definition, variable in J.PRIORITY_DEFINITIONS.items():
        table = {r["state"]: r for r in rows if r["priority"] == definition}  # in path order
        stored_rank = ds[f"{variable}_rank"].to_series()
        assert {label: row["rank"] for label, row in table.items()} == \
            {label: int(rank) + 1 for label, rank in stored_rank.items() if rank >= 0}
        ties = brute_force_ties(time, {label: row["priority_time"] for label, row in table.items()})
        assert {label: row["tied_with"].split() for label, row in table.items()} == ties
        numbers = records["H2"]["robustness"]["hanoi"]["numbers_by_priority"][definition]
        assert [row[3] for row in numbers["on_path_priority_order"]] == \
            [table[row[0]]["rank"] for row in numbers["on_path_priority_order"]]
        for label, status in numbers["bridge_status"].items():
            rivals = [name for name in ties[label] if name != numbers["goal"] and name not in numbers["bridge_status"]]
            assert status["tied_with"] == rivals and status["rank_on_path"] == table[label]["rank"]
        h3 = records["H3"]["robustness"]["hanoi"]["numbers_by_priority"][definition]
        assert h3["start_rank_on_path"] == table[h3["start"]]["rank"]
        assert h3["tied_with_start"] == ties[h3["start"]]
        n_ties += sum(len(tied) for tied in ties.values())
    if step == 1.0:
        assert n_ties > 0  # the run has ties to agree on


def test_a_drawn_prior_is_a_choice_of_its_own():
    """A run from a drawn prior (attribute prior_seed > 0) varies the choice ``seed``: it is
    never taken for the uniform prior's run of the same settings (nor the other way round)."""
    main = hanoi_run("hanoi", **MAIN)
    drawn = hanoi_run("hanoi-prior3", **MAIN, prior_seed=3, method="natural")
    uniform_again = hanoi_run("hanoi-lam0.9", **MAIN, prior_seed=0, method="natural")
    assert J.choices(drawn)["seed"] == 3 and J.choices(main)["seed"] is None
    assert J.choices(uniform_again)["seed"] is None
    assert J.varied_choices(drawn, main) == ["seed"]
    assert J.varied_choices(uniform_again, main) == []
    assert J.reference_run(drawn, [main]) is None
    records = J.evaluate_claims(C.CLAIMS, [main, drawn])
    rows = [row for row in R.robustness_table(records, C.CLAIMS) if row["env_key"] == "hanoi-prior3"]
    assert rows and {(row["group"], row["variant"], row["seed"]) for row in rows} == {("prior", "HIMO 0.9", 3)}
