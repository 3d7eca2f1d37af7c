"""Rule manifest: provenance of every result (prevalence.steps.manifest_step)."""

from prevalence.steps import manifest_step, run_step

run_step(
    snakemake,
    manifest_step,
    inputs=snakemake.params.raw,
    outputs=snakemake.params.outputs,
    config=snakemake.params.config,
    out=snakemake.output[0],
)
