"""Rule of_whom: a parent indicator and its breakdown (prevalence.steps.of_whom_step)."""

from prevalence.steps import of_whom_step, run_step

run_step(
    snakemake,
    of_whom_step,
    snakemake.input.table,
    snakemake.input.codebook,
    wave=snakemake.wildcards.wave,
    wave_label=snakemake.params.wave_label,
    parent=snakemake.wildcards.parent,
    out_stem=snakemake.params.stem,
)
