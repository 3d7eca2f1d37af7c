"""Rule study_charts: the charts of the study as a whole (prevalence.workflow.steps.study_charts_step)."""

from prevalence.workflow.steps import run_step, study_charts_step

run_step(
    snakemake,
    study_charts_step,
    snakemake.input.table,
    dict(zip(snakemake.params.waves, snakemake.input.codebooks, strict=True)),
    wave_labels=snakemake.params.wave_labels,
    of_whom=snakemake.params.of_whom,
    across_waves=snakemake.params.across_waves,
    contrasts=snakemake.input.contrasts[0] if snakemake.input.contrasts else None,
    figures_dir=snakemake.params.figures_dir,
    comparisons_dir=snakemake.params.comparisons_dir,
    publication=snakemake.params.publication,
)
