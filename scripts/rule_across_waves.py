"""Rule across_waves: indicators across waves (prevalence.steps.across_waves_step)."""

from prevalence.steps import across_waves_step, run_step

run_step(
    snakemake,
    across_waves_step,
    snakemake.input.table,
    snakemake.params.codebooks,
    indicators=snakemake.params.indicators,
    wave_labels=snakemake.params.wave_labels,
    out_dir=snakemake.params.out_dir,
)
