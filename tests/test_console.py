"""The console of a run: what the default profile's logger leaves out of Snakemake's lines
(src/snakemake_logger_plugin_prevalence; the whole run is checked by test_embedded_outputs)."""

from __future__ import annotations

import logging

import pytest
from snakemake_interface_logger_plugins.common import LogEvent

from snakemake_logger_plugin_prevalence import is_chatter


def record(message: str, level: int = logging.INFO, event: LogEvent | None = None):
    made = logging.LogRecord("snakemake", level, __file__, 1, message, None, None)
    if event is not None:
        made.event = event
    return made


@pytest.mark.parametrize(
    "message",
    [
        "Select jobs to execute...",
        "Execute 2 jobs...",
        "Updating checkpoint dependencies.",
        "DAG of jobs will be updated after completion.",
        "Using shell: /usr/bin/bash",
        "Rules claiming more threads will be scaled down.",
        "Assuming unrestricted shared filesystem usage.",
        "Conda environments: ignored",
    ],
)
def test_snakemake_scheduling_lines_are_left_out(message):
    assert is_chatter(record(message))


def test_a_finished_job_is_left_out_its_progress_kept():
    assert is_chatter(record("Finished jobid: 3 (Rule: wave)", event=LogEvent.JOB_FINISHED))
    assert not is_chatter(record("7 of 31 steps (23%) done", event=LogEvent.PROGRESS))


@pytest.mark.parametrize(
    "message",
    [
        "wave 2016-global: 55 rows, 55 kept, 0 excluded",
        "Provided cores: 2",
        "Building DAG of jobs...",
        "Complete log(s): /project/.snakemake/log/2026.snakemake.log",
    ],
)
def test_what_a_person_needs_stays(message):
    assert not is_chatter(record(message))


def test_a_warning_or_an_error_always_stays():
    assert not is_chatter(record("Execute 2 jobs...", level=logging.WARNING))
    assert not is_chatter(record("Select jobs to execute...", level=logging.ERROR))
