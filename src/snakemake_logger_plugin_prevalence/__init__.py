"""The console of a run, as a Snakemake logger plugin (``snakemake --logger prevalence``, set
in workflow/profiles/default): Snakemake's own lines, less its scheduling chatter.

What a person running the workflow needs stays: the start (profile, cores, the table of
jobs), each job's own line (``wave 2016-global: 55 rows, 55 kept, 0 excluded``), Snakemake's
progress (``7 of 30 steps (23%) done``), every warning and error, and the closing summary.
What goes is what Snakemake says while it schedules ("Select jobs to execute...", "Execute 2
jobs...", "Updating checkpoint dependencies.", "DAG of jobs will be updated after
completion."), the time stamp and "Finished jobid" of each job (its progress line follows),
and the set-up notes that never change here (shell, conda, file system). Snakemake's log file,
``.snakemake/log/<time>.snakemake.log``, still has every line.

A package of its own beside ``prevalence``: Snakemake finds logger plugins by the name of their
top-level module (``snakemake_logger_plugin_<name>``).
"""

from __future__ import annotations

import logging
import sys

from snakemake_interface_logger_plugins.base import LogHandlerBase

#: The beginnings of Snakemake's INFO lines that the console leaves out.
CHATTER = (
    "Select jobs to execute",
    "Execute ",  # "Execute 2 jobs..."
    "Updating checkpoint dependencies",
    "DAG of jobs will be updated after completion",
    "Using shell:",
    "Rules claiming more threads will be scaled down",
    "Assuming unrestricted shared filesystem usage",
    "Conda environments: ignored",
)


def is_chatter(record: logging.LogRecord) -> bool:
    """Whether ``record`` is one of Snakemake's scheduling lines (never a warning or error)."""
    if record.levelno != logging.INFO:
        return False
    if getattr(getattr(record, "event", None), "name", None) == "JOB_FINISHED":
        return True
    return record.getMessage().startswith(CHATTER)


class LogHandler(LogHandlerBase):
    """Snakemake's console handler (its colours and formats), with :func:`is_chatter` left out.
    Snakemake adds its own filter (``--quiet``) and formatter to this handler."""

    def __post_init__(self) -> None:
        from snakemake.logging import ColorizingTextHandler

        stream = sys.stdout if self.common_settings.stdout else sys.stderr
        self._console = ColorizingTextHandler(nocolor=self.common_settings.nocolor, stream=stream)
        self.addFilter(lambda record: not is_chatter(record))

    def emit(self, record: logging.LogRecord) -> None:
        if self._console.formatter is not self.formatter:
            self._console.setFormatter(self.formatter)
        self._console.emit(record)

    @property
    def writes_to_stream(self) -> bool:
        return True

    @property
    def writes_to_file(self) -> bool:
        return False

    @property
    def has_filter(self) -> bool:
        return False

    @property
    def has_formatter(self) -> bool:
        return False

    @property
    def needs_rulegraph(self) -> bool:
        return False
