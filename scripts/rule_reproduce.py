"""Rule reproduce: published figures against estimates (prevalence.steps.reproduce_step)."""

from prevalence.steps import reproduce_step, run_step

run_step(
    snakemake,
    reproduce_step,
    snakemake.input.tables,
    snakemake.input.targets,
    out=snakemake.output[0],
)
