# Stages 2 and 3: HIMO on each run's MDP, results/<key>/trajectory.nc, and the
# measures of section 4, results/<key>/measures.nc. The variants of the paper
# environments keep only their measures (config: variant_trajectories), and the
# runs from drawn priors not even those once the tables that summarize them are
# written (temp(); `snakemake --notemp` keeps them).
#
# One job solves and measures a group of runs on the same MDP in one process
# (`himo run`, which writes for each run exactly what `himo solve` and then
# `himo measures` write): Python and the scientific stack take about a second to
# start, more than most runs take to solve. The groups (at most `runs_per_job`
# runs, in the config's order) are made by himo.pipeline.config.resolve_jobs; each
# is a rule of its own, named run_<MDP key>[_<n>], since its outputs are a list of
# files rather than a pattern. A job builds a registered environment or a map
# itself (`--env`, as `himo env` would: in milliseconds, and no job waits for
# another), and the first job of each MDP also writes it to results/<key>/env.nc;
# a user's MDP file is read from results/<key>/env.nc (rules/environments.smk).
# The job's log is results/logs/<job>.log. Jobs of more runs start first (their
# priority), so that the short ones fill the gaps at the end.

for job in get_job_names():

    rule:
        name:
            job
        input:
            mdp=get_job_mdp_input(job),
            features=get_job_feature_files(job),
            code=get_code("run"),
        output:
            mdp=get_job_mdp_output(job),
            trajectories=get_job_trajectory_files(job),
            measures=get_job_measures_files(job),
        params:
            mdp=get_job_mdp_args(job),
            runs=get_job_runs(job),
        log:
            get_job_log(job),
        priority:
            get_job_priority(job)
        shell:
            "himo run {params.mdp} --runs {params.runs:q} > {log} 2>&1"
