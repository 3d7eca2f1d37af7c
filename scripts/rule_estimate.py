"""Rule estimate: the wave's prevalence table (prevalence.steps.estimate_step)."""

from prevalence.steps import estimate_step, run_step

run_step(
    snakemake,
    estimate_step,
    snakemake.input.data,
    snakemake.input.codebook,
    wave=snakemake.wildcards.wave,
    by=snakemake.params.by,
    design=snakemake.params.design,
    ci_method=snakemake.params.ci_method,
    level=snakemake.params.level,
    out=snakemake.output.table,
    threads=snakemake.threads,
)
