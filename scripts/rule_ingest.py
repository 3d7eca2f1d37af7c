"""Rule ingest: read, validate and harmonize one wave (prevalence.steps.ingest_step)."""

from prevalence.steps import ingest_step, run_step

run_step(
    snakemake,
    ingest_step,
    snakemake.input.responses,
    snakemake.input.codebook,
    wave=snakemake.wildcards.wave,
    design=snakemake.params.design,
    out_data=snakemake.output.data,
    out_log=snakemake.output.log,
    privacy=snakemake.params.privacy,
)
