"""The same numbers on every x86-64 machine: one OpenBLAS kernel for every job.

numpy and scipy ship OpenBLAS built for many CPUs and choose its kernels at start-up from the
CPU they find. The AVX-512 kernels add in another order than the AVX2 ones, so on a machine
with AVX-512 a few design-based test statistics (the Rao-Scott corrections, through their
eigenvalues) differ from an AVX2 machine's in the 15th significant digit, the last one the
tables write. Every job of the workflow therefore runs with OpenBLAS's AVX2 kernel
(``OPENBLAS_CORETYPE=Haswell``) on any x86-64 CPU that has AVX2, and the tables and charts are
byte-identical from one such machine to the next. A value already set in the environment is
kept; a CPU without AVX2, or not x86-64 (Apple silicon, ARM servers), is left to OpenBLAS's
choice, and its last digits may then differ.
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from pathlib import Path

#: the OpenBLAS kernel every job runs with, on an x86-64 CPU with AVX2
CORETYPE = "Haswell"


def has_avx2(cpuinfo: str | Path = "/proc/cpuinfo") -> bool:
    """Whether the CPU's flags (Linux's ``/proc/cpuinfo``) list AVX2."""
    try:
        text = Path(cpuinfo).read_text(errors="replace")
    except OSError:
        return False
    return any(
        line.startswith("flags") and "avx2" in line.split(":", 1)[-1].split()
        for line in text.splitlines()
    )


def blas_environment(
    environ: Mapping[str, str],
    *,
    machine: str | None = None,
    cpuinfo: str | Path = "/proc/cpuinfo",
) -> dict[str, str]:
    """The variables to add to ``environ`` so that jobs started from it use one OpenBLAS
    kernel: ``{"OPENBLAS_CORETYPE": "Haswell"}`` on an x86-64 CPU with AVX2, unless
    ``environ`` already sets it; otherwise nothing."""
    if "OPENBLAS_CORETYPE" in environ:
        return {}
    machine = (machine or platform.machine()).lower()
    if machine not in ("x86_64", "amd64") or not has_avx2(cpuinfo):
        return {}
    return {"OPENBLAS_CORETYPE": CORETYPE}
