"""Rule manifest: provenance of every result, then the reproduction check
(prevalence.steps.manifest_step)."""

from prevalence.steps import manifest_step, run_step

run_step(
    snakemake,
    manifest_step,
    inputs=list(snakemake.input.raw),
    outputs=[*snakemake.input.outputs, *snakemake.input.population],
    config=snakemake.params.config,
    out=snakemake.output.manifest,
    reproduction=snakemake.input.reproduction[0] if snakemake.input.reproduction else None,
    checked=snakemake.output.checked[0] if snakemake.output.checked else None,
)
