"""Rule publish: the published tables of all waves and the charts of the study
(prevalence.workflow.steps.publish_step)."""

from prevalence.workflow.steps import files_by_wave, publish_step, run_step

run_step(
    snakemake,
    publish_step,
    files_by_wave(
        snakemake.params.waves, {k: getattr(snakemake.input, k) for k in snakemake.params.kinds}
    ),
    wave_labels=snakemake.params.wave_labels,
    domains=snakemake.params.domains,
    style=snakemake.params.style,
    comparisons=snakemake.params.comparisons,
    level=snakemake.params.level,
    populations=snakemake.params.populations,
    targets=snakemake.input.targets[0] if snakemake.input.targets else None,
    out=snakemake.params.out,
    publication=snakemake.params.publication,
    charts=snakemake.params.charts,
)
