"""Rules charts_* and population_charts_*: a wave's charts, of all respondents or of one
population (prevalence.workflow.steps.figures_step)."""

from prevalence.workflow.steps import figures_step, run_step

run_step(
    snakemake,
    figures_step,
    snakemake.input.table,
    snakemake.input.codebook,
    wave=snakemake.params.wave,
    wave_label=snakemake.params.wave_label,
    domains=snakemake.params.domains,
    out_dir=snakemake.params.out_dir,
    population=snakemake.params.population,
    of_whom=snakemake.params.of_whom,
    publication=snakemake.params.publication,
)
