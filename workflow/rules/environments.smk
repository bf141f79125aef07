# Stage 1: a user's MDP file (`mdp:` in the config), checked and rewritten, or a
# Gymnasium environment (`gymnasium:`), imported, as results/<key>/env.nc (`himo
# import`; himo.pipeline.config.IMPORTED_KINDS). The registered environments and the
# maps (`env:`, `map:`)
# have no job of their own: each job of stage 2 builds its MDP as `himo env` would,
# and the first job of each writes it to results/<key>/env.nc (rules/solve.smk).


rule environment_file:
    """A user's MDP file (`mdp:`), checked and rewritten by `himo import` as results/<key>/env.nc."""
    input:
        code=get_code("import"),
        mdp=get_mdp_file,
    output:
        mdp=pipeline.ENV_FILE,
    log:
        "results/{key}/env.log",
    wildcard_constraints:
        key=get_key_pattern(get_environment_keys("mdp")),
    shell:
        "himo import {input.mdp} {output.mdp} > {log} 2>&1"


rule environment_gymnasium:
    """A Gymnasium environment (`gymnasium:`), imported by `himo import gymnasium:ID`."""
    input:
        code=get_code("import"),
    output:
        mdp=pipeline.ENV_FILE,
    params:
        source=get_import_source,
        params=get_env_params,
    log:
        "results/{key}/env.log",
    wildcard_constraints:
        key=get_key_pattern(get_environment_keys("gymnasium")),
    shell:
        "himo import {params.source} {output.mdp} {params.params} > {log} 2>&1"
