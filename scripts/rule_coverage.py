"""Rule coverage: actual coverage of interval methods (prevalence.workflow.steps.coverage_step)."""

from prevalence.workflow.steps import coverage_step, run_step

settings = snakemake.params.coverage
run_step(
    snakemake,
    coverage_step,
    n=settings["n"],
    p=settings["p"],
    methods=settings["methods"],
    level=snakemake.params.level,
    simulate=settings.get("simulate"),
    out_table=snakemake.output.table,
    out_figure_stem=snakemake.params.stem,
)
