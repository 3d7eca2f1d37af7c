"""Rule check_reproduction: fail naming the figures that do not reproduce."""

from prevalence.steps import check_reproduction_step, run_step

run_step(
    snakemake,
    check_reproduction_step,
    snakemake.input.reproduction,
    out=snakemake.output[0],
)
