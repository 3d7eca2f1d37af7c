"""Rule manifest: provenance of every result (prevalence.steps.manifest_step)."""

from prevalence.steps import manifest_step, run_step

run_step(
    snakemake,
    manifest_step,
    inputs=list(snakemake.input.raw),
    outputs=[*snakemake.input.outputs, *snakemake.input.population],
    config=snakemake.params.config,
    out=snakemake.output[0],
)
