# Stage 3: PD, CD, their velocities and priorities, results/<key>/measures.nc.


rule measures:
    """The measures of section 4 from a run's trajectory and MDP."""
    input:
        trajectory=rules.solve.output.trajectory,
        mdp=get_env_file,
        code=get_code("measures"),
    output:
        measures="results/{key}/measures.nc",
    log:
        "results/{key}/measures.log",
    shell:
        "himo measures {input.trajectory} {input.mdp} {output.measures} > {log} 2>&1"
