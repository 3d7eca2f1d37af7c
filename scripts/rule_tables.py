"""Rule tables: the publication tables (prevalence.steps.tables_step)."""

from prevalence.steps import run_step, tables_step

run_step(
    snakemake,
    tables_step,
    snakemake.input.table,
    snakemake.params.codebooks,
    wave_labels=snakemake.params.wave_labels,
    domains=snakemake.params.domains,
    style=snakemake.params.style,
    out_dir=snakemake.params.out_dir,
)
