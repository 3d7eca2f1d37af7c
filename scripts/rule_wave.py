"""Rule wave: a wave from its raw file to all its microdata give (prevalence.workflow.steps.wave_step)."""

from prevalence.workflow.steps import run_step, wave_step

run_step(
    snakemake,
    wave_step,
    snakemake.input.responses,
    snakemake.input.codebook,
    wave=snakemake.wildcards.wave,
    design=snakemake.params.design,
    population=snakemake.input.population or None,
    privacy=snakemake.params.privacy,
    by=snakemake.params.by,
    ci_method=snakemake.params.ci_method,
    level=snakemake.params.level,
    publication=snakemake.params.publication,
    populations=snakemake.params.populations,
    comparisons=snakemake.params.comparisons,
    waves=snakemake.params.waves,
    out=dict(snakemake.output.items()),
    threads=snakemake.threads,
)
