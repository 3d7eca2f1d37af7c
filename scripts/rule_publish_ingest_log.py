"""Rule publish_ingest_log: the ingest log for results/ (prevalence.steps.publish_ingest_log_step)."""

from prevalence.steps import publish_ingest_log_step, run_step

run_step(snakemake, publish_ingest_log_step, snakemake.input[0], out=snakemake.output[0])
