"""Rule prevalence_table: all waves in the published table (prevalence.steps.publish_table_step)."""

from prevalence.steps import publish_table_step, run_step

run_step(
    snakemake,
    publish_table_step,
    snakemake.input.tables,
    publication=snakemake.params.publication,
    out=snakemake.output.table,
)
