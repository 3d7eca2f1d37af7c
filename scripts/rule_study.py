"""Rule study: a wave's study report, HTML and PDF (prevalence.workflow.steps.study_step)."""

from prevalence.workflow.steps import run_step, study_step

run_step(
    snakemake,
    study_step,
    snakemake.input.table,
    snakemake.input.findings,
    snakemake.input.ingest_log,
    snakemake.input.codebook,
    snakemake.input.methods,
    wave=snakemake.wildcards.wave,
    wave_label=snakemake.params.wave_label,
    charts=list(snakemake.input.charts),
    reproduction=snakemake.input.reproduction[0] if snakemake.input.reproduction else None,
    domains=snakemake.params.domains,
    populations=snakemake.params.populations,
    style=snakemake.params.style,
    publication=snakemake.params.publication,
    settings=snakemake.params.settings,
    out_html=snakemake.output.html,
    out_pdf=snakemake.output.pdf,
)
