# The HTML report: `snakemake --report report.html` after a run. It shows the
# outputs marked report(...) in the other stages (the figures, results/claims.md)
# with their captions from workflow/report/, under this description of the workflow.


report: "../report/workflow.rst"
