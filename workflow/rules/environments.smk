# Stage 1: each environment's MDP file, results/<key>/env.nc (a sweep's runs read
# the file of the environment they vary).


rule environment:
    """A registered environment (`env:`) or a grid-world map (`map:`), via `himo env`."""
    input:
        code=get_code("env"),
        map=get_map_file,
    output:
        mdp="results/{key}/env.nc",
    params:
        name=get_env_name,
        params=get_env_params,
    log:
        "results/{key}/env.log",
    wildcard_constraints:
        key=get_key_pattern(get_environment_keys("env") + get_environment_keys("map")),
    shell:
        "himo env {params.name} {output.mdp} {params.params} > {log} 2>&1"


rule environment_file:
    """A user's MDP file (`mdp:`), checked and rewritten by `himo import` as results/<key>/env.nc."""
    input:
        code=get_code("import"),
        mdp=get_mdp_file,
    output:
        mdp="results/{key}/env.nc",
    log:
        "results/{key}/env.log",
    wildcard_constraints:
        key=get_key_pattern(get_environment_keys("mdp")),
    shell:
        "himo import {input.mdp} {output.mdp} > {log} 2>&1"
