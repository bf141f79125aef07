# Stage 5: a verdict on each claim of the paper from all runs' measures,
# results/claims.json and results/claims.md.


rule claims:
    """Every claim judged on every run it applies to (by the runs' paper_env)."""
    input:
        measures=expand(rules.measures.output.measures, key=get_run_keys()),
        code=get_code("claims"),
    output:
        json="results/claims.json",
        md=report("results/claims.md", caption="../report/claims.rst", category="Claims"),
    log:
        "results/claims.log",
    shell:
        "himo claims {input.measures} --json {output.json} --md {output.md} > {log} 2>&1"
