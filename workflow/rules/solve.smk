# Stage 2: HIMO on each run's MDP, results/<key>/trajectory.nc.


rule solve:
    """Algorithm 1 with the run's solver settings; the run's config entry is recorded."""
    input:
        mdp=get_env_file,
        code=get_code("solve"),
    output:
        trajectory="results/{key}/trajectory.nc",
    params:
        settings=get_solver_args,
        provenance=get_provenance,
    log:
        "results/{key}/solve.log",
    shell:
        "himo solve {input.mdp} {output.trajectory} {params.settings}"
        " --provenance {params.provenance:q} > {log} 2>&1"
