"""Rule comparison_tables: differences and tests as tables (prevalence.steps)."""

from prevalence.steps import comparison_tables_step, run_step

run_step(
    snakemake,
    comparison_tables_step,
    snakemake.input.contrasts,
    snakemake.input.association,
    snakemake.params.codebooks,
    wave_labels=snakemake.params.wave_labels,
    style=snakemake.params.style,
    out_dir=snakemake.params.out_dir,
)
