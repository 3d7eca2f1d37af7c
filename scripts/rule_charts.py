"""Rule charts: a wave's charts (prevalence.steps.figures_step)."""

from prevalence.steps import figures_step, run_step

run_step(
    snakemake,
    figures_step,
    snakemake.input.table,
    snakemake.input.codebook,
    wave=snakemake.wildcards.wave,
    wave_label=snakemake.params.wave_label,
    domains=snakemake.params.domains,
    out_dir=snakemake.params.out_dir,
)
