"""The workflow's config resolution (himo.pipeline.config), without Snakemake.

The paper's config and the workflow's test config resolve to the runs, figures
and command lines the workflow needs; every bad key or value is one ConfigError
naming it (tests/workflow/test_workflow.py shows, once, that Snakemake then stops
before any job). The solver settings in the schema and on the command line come
from himo.solver.settings.
"""

from __future__ import annotations

import copy
import json
import math
import re
import shlex
from pathlib import Path

import pytest
import yaml

from himo.cli import _load_plugins, build_parser
from himo.errors import ConfigError
from himo.pipeline import config as pipeline
from himo.solver.settings import setting_defaults, setting_schemas

REPO = Path(__file__).resolve().parents[2]
SCHEMA_FILE = REPO / "workflow" / "schemas" / "config.schema.yaml"
PAPER_CONFIG = REPO / "config" / "config.yaml"
TEST_CONFIG = Path(__file__).with_name("config.test.yaml")


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def resolve(config: dict) -> tuple[dict, dict]:
    """(runs, figures) of a config, as common.smk computes them."""
    pipeline.validate_config(config, SCHEMA_FILE)
    runs = pipeline.resolve_runs(config)
    return runs, pipeline.resolve_figures(config, runs)


def with_value(config: dict, where: list[str], value) -> dict:
    """A copy of ``config`` with ``value`` at the key path ``where``."""
    config = copy.deepcopy(config)
    node = config
    for name in where[:-1]:
        node = node.setdefault(name, {})
    node[where[-1]] = value
    return config


# ------------------------------------------------------------------ the schema
def test_schema_settings_come_from_the_solver_settings():
    """Defaults at the top level, none in the overrides, every setting sweepable."""
    schema = pipeline.config_schema(SCHEMA_FILE)
    settings = setting_schemas()
    solver = schema["properties"]["solver"]["properties"]
    overrides = schema["$defs"]["solver_overrides"]["properties"]
    assert solver == settings
    assert list(overrides) == list(settings)
    for name, setting in overrides.items():
        assert "default" not in setting
        assert setting == {k: v for k, v in settings[name].items() if k != "default"}
    swept = schema["properties"]["sweeps"]["additionalProperties"]["properties"]["setting"]
    assert swept["enum"] == list(settings)


def test_the_schema_file_lists_no_solver_setting(tmp_path):
    """A setting written in the schema file by hand would be a second definition."""
    schema = load(SCHEMA_FILE)
    schema["properties"]["solver"]["properties"] = {"lam": {"type": "number", "default": 0.5}}
    path = tmp_path / "schema.yaml"
    path.write_text(yaml.safe_dump(schema))
    with pytest.raises(ValueError, match="himo.solver.settings"):
        pipeline.config_schema(path)


def test_every_config_key_has_a_description_and_a_default():
    """The schema documents every key; only the overrides' keys have no default,
    because an unset override inherits (a default there would undo `solver`)."""
    schema = pipeline.config_schema(SCHEMA_FILE)

    def resolve_ref(node):
        ref = node.get("$ref", "")
        return {**schema["$defs"][ref.rsplit("/", 1)[1]], **node} if ref else node

    checked = []

    def walk(node, where, overrides=False):
        node = resolve_ref(node)
        assert node.get("additionalProperties") is not True, where
        for name, sub in node.get("properties", {}).items():
            sub = resolve_ref(sub)
            assert sub.get("description"), f"{where}.{name} has no description"
            if not overrides:
                assert "default" in sub, f"{where}.{name} has no default"
            checked.append(f"{where}.{name}")
            walk(sub, f"{where}.{name}", overrides or name == "solver" and where != "config")
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], f"{where}.<name>", overrides)

    assert schema["additionalProperties"] is False
    walk(schema, "config")
    assert "config.solver.max_iter" in checked and "config.environments.<name>.solver.lam" in checked


def test_defaults_are_filled_in():
    config = {"environments": {"chain": {"mdp": "chain.nc"}}}
    pipeline.validate_config(config, SCHEMA_FILE)
    assert config["solver"] == setting_defaults()
    assert config["environments"]["chain"] == {
        "mdp": "chain.nc", "env": "", "map": "", "gymnasium": "", "params": {}, "paper_env": "",
        "features": "", "figure_style": "raw", "solver": {},
    }
    assert config["figures"] == {} and config["sweeps"] == {} and config["variant_figures"] is False


# ---------------------------------------------------------------- the runs
def test_paper_config_runs():
    """The paper's config: 11 environments and the sweep runs, settings resolved in order."""
    config = load(PAPER_CONFIG)
    runs, figures = resolve(load(PAPER_CONFIG))
    own = {"hanoi", "fourrooms", "wormhole", "hanoi-stepcost", "fourrooms-stepcost", "wormhole-stepcost",
           "fourrooms-inroom", "wormhole-inroom", "hanoi-features", "fourrooms-features", "wormhole-features"}
    assert {key for key, run in runs.items() if "sweep" not in run} == own
    grid = config["sweeps"]["foresight"]["values"]
    assert len(grid) >= 9 and min(grid) == 0.8 and max(grid) == 0.995 and 0.9 in grid
    # the foresight grid without the environments' own 0.9 (the three paper environments
    # and the two in-room placements); the step sizes without 0.1; the printed E on Hanoi;
    # one step rule and one dependent rule; both baselines and Kakade's natural gradient
    # on the whole grid
    # and the drawn priors: HIMO and both first-order baselines at 0.9 and 0.98 on the
    # three paper environments, each from every seed
    seeds = config["sweeps"]["prior"]["values"]
    prior_sweeps = [name for name, sweep in config["sweeps"].items() if sweep["setting"] == "prior_seed"]
    assert len(seeds) >= 16 and 0 not in seeds
    assert all(config["sweeps"][name]["values"] == seeds for name in prior_sweeps)
    drawn = {(run["sweep"]["base"], run["solver"]["method"].replace("newton", "natural"), run["solver"]["lam"])
             for run in runs.values() if pipeline.from_drawn_prior(run)}
    assert drawn == {(env, method, lam) for env in ("hanoi", "fourrooms", "wormhole")
                     for method in ("natural", "gradient", "softmax") for lam in (0.9, 0.98)}
    n_swept = 5 * (len(grid) - 1) + 3 * 3 + 1 + 3 + 3 + 3 * 3 * len(grid) + len(prior_sweeps) * 3 * len(seeds)
    assert len(runs) == len(own) + n_swept
    assert "hanoi-lam0.9" not in runs and "hanoi-step0.1" not in runs
    assert (config["sweeps"]["gradient"]["values"] == config["sweeps"]["softmax"]["values"]
            == config["sweeps"]["kakade"]["values"] == grid)
    defaults = {**setting_defaults(), **config["solver"]}
    assert runs["hanoi"]["solver"] == defaults
    assert runs["fourrooms"]["solver"] == {**defaults, "method": "natural"}
    # top-level, then the environment (hanoi has none), then the sweep, then the value
    assert runs["hanoi-lam0.8"]["solver"] == {**defaults, "method": "natural", "max_iter": 12000, "lam": 0.8}
    assert runs["fourrooms-dependent-last"]["solver"] == {**defaults, "method": "natural", "dependent": "last"}
    assert runs["hanoi-E-printed"]["solver"] == {**defaults, "method": "newton", "e_form": "printed"}
    assert runs["hanoi-gradient-lam0.9"]["solver"]["method"] == "gradient"
    assert runs["hanoi-lam0.8"]["sweep"] == {"name": "foresight", "setting": "lam", "value": 0.8, "base": "hanoi"}
    assert pipeline.environment_key("hanoi-lam0.8", runs["hanoi-lam0.8"]) == "hanoi"
    assert pipeline.environment_key("hanoi", runs["hanoi"]) == "hanoi"
    assert figures == {"fig1": ("hanoi", "normalized"), "fig2": ("fourrooms", "raw"),
                       "figS1": ("wormhole", "raw")}
    assert all(pipeline.is_variant(key, run) for key, run in runs.items() if "-" in key)


def test_skip_base_value_leaves_out_the_environments_own_value():
    config = with_value(load(TEST_CONFIG), ["sweeps"], {
        "s": {"setting": "lam", "values": [0.8, 0.9], "environments": ["hanoi"], "skip_base_value": True},
        "t": {"setting": "lam", "values": [0.8, 0.9], "environments": ["hanoi"], "label": "t"}})
    runs, _ = resolve(config)
    assert sorted(runs) == ["hanoi", "hanoi-lam0.8", "hanoi-t0.8", "hanoi-t0.9"]


def test_variant_figures_draw_every_run():
    runs, figures = resolve(with_value(load(PAPER_CONFIG), ["variant_figures"], True))
    assert len(figures) == 3 + len(runs) - 3
    assert figures["hanoi-lam0.8"] == ("hanoi-lam0.8", "normalized")  # hanoi's figure_style


def test_a_run_of_your_own_gets_its_own_figure():
    config = {"environments": {"chain": {"mdp": "chain.nc", "figure_style": "normalized"},
                               "room": {"env": "grid", "params": {"rows": 3}}}}
    runs, figures = resolve(config)
    assert figures == {"chain": ("chain", "normalized"), "room": ("room", "raw")}
    assert runs["chain"]["kind"] == "mdp" and runs["room"]["kind"] == "env"
    assert not pipeline.is_variant("chain", runs["chain"])


def test_integral_float_settings_become_integers():
    runs, _ = resolve(with_value(load(TEST_CONFIG), ["solver", "max_iter"], 300.0))
    assert runs["hanoi"]["solver"]["max_iter"] == 300 and isinstance(runs["hanoi"]["solver"]["max_iter"], int)


# ------------------------------------------------------------ the jobs' arguments
def test_jobs_group_the_runs_of_one_mdp():
    """Every run is in exactly one job; a job's runs read one MDP file; the groups of
    one MDP are as even as they can be, in the config's order."""
    config = load(PAPER_CONFIG)
    runs, _ = resolve(config)
    jobs = pipeline.resolve_jobs(runs, config["runs_per_job"])
    assert sorted(key for keys in jobs.values() for key in keys) == sorted(runs)
    for name, keys in jobs.items():
        assert re.fullmatch(r"run_\w+", name)
        assert len({pipeline.environment_key(key, runs[key]) for key in keys}) == 1, name
        assert len(keys) <= config["runs_per_job"]
    hanoi = [keys for name, keys in jobs.items() if name == "run_hanoi" or name.startswith("run_hanoi_")
             and not name.startswith(("run_hanoi_stepcost", "run_hanoi_features"))]
    on_hanoi = [key for key in runs if pipeline.environment_key(key, runs[key]) == "hanoi"]
    assert hanoi == [on_hanoi[i::len(hanoi)] for i in range(len(hanoi))]  # dealt like cards
    assert max(map(len, hanoi)) - min(map(len, hanoi)) <= 1
    assert len(hanoi) == -(-len(on_hanoi) // config["runs_per_job"])
    for keys in hanoi:  # each job has some of the first-order runs, the costliest
        assert any("gradient" in key for key in keys) or any("softmax" in key for key in keys)
    one_each = pipeline.resolve_jobs(runs, 1)
    assert len(one_each) == len(runs)
    assert one_each["run_hanoi"] == ["hanoi"] and one_each["run_hanoi_2"] == [list(runs)[11]]
    assert pipeline.resolve_jobs(runs, 1000)["run_hanoi"] == on_hanoi
    assert one_each["run_fourrooms_inroom"] == ["fourrooms-inroom"]


def test_job_names_that_collide_are_an_error():
    config = {"environments": {"a-b": {"env": "hanoi"}, "a_b": {"env": "hanoi"}}}
    runs, _ = resolve(config)
    with pytest.raises(ConfigError, match="same job name 'run_a_b'"):
        pipeline.resolve_jobs(runs, 8)


def test_each_job_builds_or_reads_its_mdp_and_one_writes_it():
    """A registered environment or a map is built by every job of it (`--env`), and the
    first of them writes results/<key>/env.nc; a user's MDP file or a Gymnasium
    environment is read from there (rules environment_file, environment_gymnasium write it)."""
    config = {"environments": {"hanoi": {"env": "hanoi", "params": {"n_disks": 2}},
                               "rooms": {"map": "maps/two rooms.txt"}, "chain": {"mdp": "chain.nc"},
                               "lake": {"gymnasium": "FrozenLake-v1", "params": {"is_slippery": False}}},
              "sweeps": {"s": {"setting": "lam", "values": [0.5, 0.6, 0.7], "environments": ["hanoi", "chain"]}}}
    runs, _ = resolve(config)
    jobs = pipeline.resolve_jobs(runs, 2)
    assert jobs == {"run_hanoi": ["hanoi", "hanoi-lam0.6"], "run_hanoi_2": ["hanoi-lam0.5", "hanoi-lam0.7"],
                    "run_rooms": ["rooms"], "run_chain": ["chain", "chain-lam0.6"],
                    "run_chain_2": ["chain-lam0.5", "chain-lam0.7"], "run_lake": ["lake"]}
    args = {job: pipeline.job_mdp_args(job, jobs, runs) for job in jobs}
    assert args["run_hanoi"] == ["--env", "hanoi", "--param=n_disks=2", "--save-mdp", "results/hanoi/env.nc"]
    assert args["run_hanoi_2"] == ["--env", "hanoi", "--param=n_disks=2"]
    assert args["run_rooms"] == ["--env", "grid", "--param=map=maps/two rooms.txt", "--save-mdp",
                                 "results/rooms/env.nc"]
    assert args["run_chain"] == args["run_chain_2"] == ["results/chain/env.nc"]
    assert args["run_lake"] == ["results/lake/env.nc"]
    outputs = {job: pipeline.job_mdp_output(job, jobs, runs) for job in jobs}
    assert outputs == {"run_hanoi": ["results/hanoi/env.nc"], "run_hanoi_2": [], "run_rooms": ["results/rooms/env.nc"],
                       "run_chain": [], "run_chain_2": [], "run_lake": []}
    _load_plugins()  # `himo run` is a plugin's subcommand
    parsed = build_parser().parse_args(["run", *args["run_rooms"], "--runs", "[]"])
    assert (parsed.mdp, parsed.env, parsed.param, parsed.save_mdp) == (
        None, "grid", ["map=maps/two rooms.txt"], "results/rooms/env.nc")


def test_job_runs_are_what_himo_run_takes():
    """Each job's --runs: per run its files, every resolved setting (himo.solve accepts
    them as they are) and the provenance; himo run checks them before it solves."""
    from himo.measures.cli import RUN_KEYS, _run_list
    from himo.solver.settings import SolverSettings

    config = load(PAPER_CONFIG)
    runs, _ = resolve(config)
    for name, keys in pipeline.resolve_jobs(runs, config["runs_per_job"]).items():
        listed = _run_list(pipeline.job_runs_json(keys, runs))
        # the variants keep no trajectory (config variant_trajectories, false by default)
        assert [entry["trajectory"] for entry in listed] == [
            None if pipeline.is_variant(key, runs[key]) else f"results/{key}/trajectory.nc" for key in keys]
        assert [entry["trajectory"] for entry in _run_list(pipeline.job_runs_json(
            keys, runs, variant_trajectories=True))] == [f"results/{key}/trajectory.nc" for key in keys]
        assert [entry["measures"] for entry in listed] == [f"results/{key}/measures.nc" for key in keys]
        for key, entry in zip(keys, listed):
            assert set(entry) == {*RUN_KEYS, "counters", *(["features"] if runs[key]["features"] else [])}
            assert entry.get("features", "") == runs[key]["features"]
            assert entry["counters"] == ("no" if pipeline.is_variant(key, runs[key]) else "auto")
            assert entry["settings"] == runs[key]["solver"] and set(entry["settings"]) == set(setting_schemas())
            SolverSettings(**entry["settings"])
            assert entry["provenance"] == pipeline.provenance(key, runs[key])


def test_env_params():
    config = {"environments": {
        "stepcost": {"env": "hanoi", "params": {"step_reward": -1.0, "goal_reward": 0.0, "flag": True}},
        "rooms": {"map": "maps/two rooms.txt", "params": {"goal_reward": 1.0}},
    }}
    runs, _ = resolve(config)
    assert pipeline.env_builder(runs["stepcost"]) == "hanoi"
    assert pipeline.env_params(runs["stepcost"]) == [
        "--param=flag=true", "--param=goal_reward=0.0", "--param=step_reward=-1.0"]
    assert pipeline.env_builder(runs["rooms"]) == "grid"
    assert pipeline.env_params(runs["rooms"]) == ["--param=goal_reward=1.0", "--param=map=maps/two rooms.txt"]
    assert shlex.split(shlex.join(pipeline.env_params(runs["rooms"])))[1] == "--param=map=maps/two rooms.txt"


def test_gymnasium_source_and_params():
    """A `gymnasium` entry is imported by `himo import gymnasium:ID --param ...`, which reads them back."""
    from himo.cli import parse_params

    config = {"environments": {"lake": {"gymnasium": "FrozenLake-v1",
                                        "params": {"is_slippery": False, "map_name": "4x4"}}}}
    runs, figures = resolve(config)
    run = runs["lake"]
    assert run["kind"] == "gymnasium" and list(figures) == ["lake"]
    assert pipeline.import_source(run) == "gymnasium:FrozenLake-v1"
    args = pipeline.env_params(run)
    assert args == ["--param=is_slippery=false", "--param=map_name=4x4"]
    parsed = build_parser().parse_args(["import", pipeline.import_source(run), "out.nc", *args])
    assert parse_params(parsed.param) == {"is_slippery": False, "map_name": "4x4"}
    with pytest.raises(ValueError, match="no builder"):
        pipeline.env_builder(run)
    with pytest.raises(ValueError, match="not imported"):
        pipeline.import_source(resolve({"environments": {"h": {"env": "hanoi"}}})[0]["h"])


def test_variant_counters_store_the_variants_counters_too():
    runs, _ = resolve(load(PAPER_CONFIG))
    listed = json.loads(pipeline.job_runs_json(["hanoi", "hanoi-lam0.8"], runs, variant_counters=True))
    assert [entry["counters"] for entry in listed] == ["auto", "auto"]


def test_provenance_is_the_run_without_its_figure_style():
    runs, _ = resolve(load(PAPER_CONFIG))
    record = pipeline.provenance("hanoi-lam0.8", runs["hanoi-lam0.8"])
    assert json.loads(json.dumps(record)) == record
    assert record["env_key"] == "hanoi-lam0.8" and record["paper_env"] == "hanoi"
    assert "figure_style" not in record["config"]
    assert record["config"]["solver"] == runs["hanoi-lam0.8"]["solver"]
    assert record["config"]["sweep"]["value"] == 0.8


def test_key_pattern():
    pattern = pipeline.key_pattern(["hanoi", "hanoi-lam0.8"])
    assert re.fullmatch(pattern, "hanoi-lam0.8") and not re.fullmatch(pattern, "hanoi-lam0x8")
    assert re.fullmatch(pipeline.key_pattern([]), "") is None


# ------------------------------------------------------------------ bad configs
BAD_CONFIGS = {
    # id: (where in the test config, bad value, words the error must contain)
    "unknown-top-level-key": (["solvr"], {"lam": 0.9}, ["solvr"]),
    "unknown-environment-key": (["environments", "hanoi", "foresight"], 0.9, ["environments.hanoi", "foresight"]),
    "unknown-setting": (["solver", "alpha"], 0.1, ["solver", "alpha"]),
    "bad-solver-value": (["solver", "method"], "newtonn", ["solver.method", "newtonn"]),
    "lam-out-of-range": (["solver", "lam"], 1.5, ["solver.lam", "1.5"]),
    "step-not-finite": (["solver", "step"], math.inf, ["solver.step", "inf"]),
    "bad-override": (["environments", "hanoi", "solver", "step"], -1, ["environments.hanoi.solver.step", "-1"]),
    "settings-that-do-not-go-together": (["environments", "hanoi", "solver", "e_form"], "printed",
                                         ["run 'hanoi'", "e_form", "newton"]),
    "two-sources": (["environments", "hanoi", "map"], "x.txt", ["environments.hanoi", "exactly one"]),
    "no-source": (["environments", "hanoi", "env"], "", ["environments.hanoi", "exactly one", "none"]),
    "gymnasium-and-env": (["environments", "hanoi", "gymnasium"], "FrozenLake-v1",
                          ["environments.hanoi", "exactly one", "env, gymnasium"]),
    "params-with-mdp": (["environments", "chain"], {"mdp": "chain.nc", "params": {"n": 1}},
                        ["environments.chain.params", "mdp"]),
    "bad-key": (["environments", "han/oi"], {"env": "hanoi"}, ["environments", "han/oi"]),
    "unknown-registered-env": (["environments", "hanoi", "env"], "hanio", ["environments.hanoi.env", "hanio"]),
    "figure-of-no-run": (["figures", "fig1", "environment"], "hanoy", ["figures.fig1.environment", "hanoy"]),
    "figure-name-of-a-run": (["figures", "room"], {"environment": "hanoi"}, ["run 'room'", "figures/room.png"]),
    "bad-sweep-value": (["sweeps", "s"], {"setting": "lam", "values": [0.5, 2], "environments": ["hanoi"]},
                        ["sweeps.s.values[1]", "lam", "2"]),
    "bad-sweep-setting": (["sweeps", "s"], {"setting": "alpha", "values": [1], "environments": ["hanoi"]},
                          ["sweeps.s.setting", "alpha"]),
    "bad-sweep-override": (["sweeps", "s"], {"setting": "lam", "values": [0.5], "environments": ["hanoi"],
                                             "solver": {"storage_budget": 0}},
                           ["sweeps.s.solver.storage_budget", "0"]),
    "sweep-of-no-environment": (["sweeps", "s"], {"setting": "lam", "values": [0.5], "environments": ["hanio"]},
                                ["sweeps.s.environments", "hanio"]),
    "sweep-makes-an-existing-run": (["environments", "hanoi-lam0.5"], {"env": "hanoi"},
                                    ["sweeps.s", "hanoi-lam0.5", "already exists"]),
    "no-environment": (["environments"], {}, ["environments is empty"]),
}


@pytest.mark.parametrize("case", list(BAD_CONFIGS), ids=list(BAD_CONFIGS))
def test_bad_config_is_one_error_naming_the_key(case):
    where, value, named = BAD_CONFIGS[case]
    config = with_value(load(TEST_CONFIG), where, value)
    if case == "sweep-makes-an-existing-run":
        config["sweeps"] = {"s": {"setting": "lam", "values": [0.5], "environments": ["hanoi"]}}
    if case == "figure-name-of-a-run":
        config["environments"]["room"] = {"env": "grid"}
    with pytest.raises(ConfigError) as caught:
        resolve(config)
    message = str(caught.value)
    assert message.startswith("config"), message
    assert "\n" not in message, message
    for word in named:
        assert word in message, message


def test_the_test_config_is_good():
    """The base of the bad configs above resolves: each error is the one change's."""
    runs, figures = resolve(load(TEST_CONFIG))
    assert list(runs) == ["hanoi"] and list(figures) == ["fig1"]


def test_a_features_file_is_an_input_of_its_job_a_feature_set_is_not(tmp_path):
    """A run whose features are a file reads it: the job declares it as an input (a changed
    file reruns the job); a registered feature set is code, not a file."""
    config = load(PAPER_CONFIG)
    runs, _ = resolve(config)
    jobs = pipeline.resolve_jobs(runs, config["runs_per_job"])
    assert [f for keys in jobs.values() for f in pipeline.job_feature_files(keys, runs)] == []
    runs["hanoi-features"]["features"] = str(tmp_path / "phi.nc")
    job = next(keys for keys in jobs.values() if "hanoi-features" in keys)
    assert pipeline.job_feature_files(job, runs) == [str(tmp_path / "phi.nc")]
