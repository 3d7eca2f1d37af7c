"""What every Python worker of the benchmark shares (standard library only).

A worker runs one tool on one data size with one variance method, in its own
process, and writes to its output directory:

``progress.jsonl``
    One JSON object per line, written as soon as it is known, so that a
    worker stopped by the time limit still tells how far it got:
    ``{"event": "read", "seconds": s}`` once, ``{"event": "run", "seconds": s,
    "cpu_seconds": c}`` per timed repetition (``c``: CPU time of all threads
    of the process; the R worker gives wall time only), ``{"event": "done"}``
    at the end.
``estimates.csv``
    indicator, domain, estimate, se, ci_low, ci_high, df: 8 indicators x
    (overall + 6 regions) rows.
``result.json``
    Anything else the worker measured (memory, versions, BLAS).

The R worker (``survey.R``) writes the same files.
"""

from __future__ import annotations

import csv
import ctypes
import gc
import json
import time
from collections.abc import Callable, Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

#: at most this many timed repetitions ...
MAX_REPEATS = 3
#: ... and no new one once the repetitions so far took this long (seconds)
REPEAT_BUDGET = 20.0

ESTIMATE_COLUMNS = ("indicator", "domain", "estimate", "se", "ci_low", "ci_high", "df")


class Progress:
    """Append-only JSON-lines log of a worker's progress.

    Parameters
    ----------
    out_dir
        The worker's output directory (created if needed).
    """

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = Path(out_dir)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.out_dir / "progress.jsonl"
        self.path.write_text("")

    def event(self, name: str, **fields: Any) -> None:
        """Append one event and flush it to disk."""
        with self.path.open("a") as f:
            f.write(json.dumps({"event": name, **fields}) + "\n")


def timed_repeats(fn: Callable[[], Any], progress: Progress) -> tuple[Any, list[float]]:
    """Run ``fn`` up to :data:`MAX_REPEATS` times within :data:`REPEAT_BUDGET` seconds.

    Every run's wall time is logged as a ``run`` event. The same rule is used
    by every worker, so fast tools get several runs (the benchmark reports
    the best) and slow ones a single run.

    Returns
    -------
    result, seconds
        The last result and the wall time of every run.
    """
    seconds: list[float] = []
    result = None
    while len(seconds) < MAX_REPEATS and sum(seconds) < REPEAT_BUDGET:
        gc.collect()
        start, cpu = time.perf_counter(), time.process_time()
        result = fn()
        seconds.append(time.perf_counter() - start)
        progress.event("run", seconds=seconds[-1], cpu_seconds=time.process_time() - cpu)
    return result, seconds


def write_estimates(
    out_dir: Path, rows: Iterable[Mapping[str, Any]], extra: tuple[str, ...] = ()
) -> None:
    """Write ``estimates.csv`` (see the module docstring), with ``extra`` columns after."""
    columns = ESTIMATE_COLUMNS + tuple(extra)
    with (Path(out_dir) / "estimates.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row[k] for k in columns})


def write_result(out_dir: Path, result: Mapping[str, Any]) -> None:
    """Write ``result.json``."""
    (Path(out_dir) / "result.json").write_text(json.dumps(result, indent=2, default=str) + "\n")


def versions(packages: Iterable[str]) -> dict[str, str]:
    """Installed versions of the named distributions (``"not installed"`` if absent)."""
    out = {}
    for name in packages:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


# --------------------------------------------------------------------------------------
# memory
# --------------------------------------------------------------------------------------
def _status_kib(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_bytes() -> int | None:
    """Current resident set size of this process (Linux), or None."""
    kib = _status_kib("VmRSS")
    return None if kib is None else kib * 1024


def peak_rss_bytes() -> int | None:
    """Peak resident set size of this process since start or :func:`reset_peak_rss`."""
    kib = _status_kib("VmHWM")
    return None if kib is None else kib * 1024


def reset_peak_rss() -> bool:
    """Reset the peak resident set size to the current one (Linux >= 4.0).

    Returns
    -------
    bool
        Whether the kernel accepted the reset.
    """
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


# --------------------------------------------------------------------------------------
# BLAS
# --------------------------------------------------------------------------------------
_CORENAME_SYMBOLS = (
    "scipy_openblas_get_corename64_",
    "scipy_openblas_get_corename",
    "openblas_get_corename64_",
    "openblas_get_corename",
)
_CONFIG_SYMBOLS = (
    "scipy_openblas_get_config64_",
    "scipy_openblas_get_config",
    "openblas_get_config64_",
    "openblas_get_config",
)
_THREADS_SYMBOLS = (
    "scipy_openblas_get_num_threads64_",
    "scipy_openblas_get_num_threads",
    "openblas_get_num_threads64_",
    "openblas_get_num_threads",
)


def _call(lib: ctypes.CDLL, names: tuple[str, ...], restype: Any) -> Any:
    for name in names:
        fn = getattr(lib, name, None)
        if fn is not None:
            fn.restype = restype
            value = fn()
            return value.decode() if isinstance(value, bytes) else value
    return None


def blas_info() -> list[dict[str, Any]]:
    """The BLAS libraries loaded in this process and the kernel each runs.

    Uses threadpoolctl when it is installed; otherwise asks every loaded
    OpenBLAS library for its core name, configuration and thread count.
    """
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        pass
    else:
        return [
            {k: v for k, v in info.items() if k != "filepath"}
            for info in threadpool_info()
            if info.get("user_api") == "blas"
        ]
    out = []
    try:
        maps = Path("/proc/self/maps").read_text().splitlines()
    except OSError:
        return out
    libs = sorted({line.split()[-1] for line in maps if "openblas" in line.split()[-1].lower()})
    for path in libs:
        lib = ctypes.CDLL(path)
        out.append(
            {
                "library": Path(path).name,
                "internal_api": "openblas",
                "architecture": _call(lib, _CORENAME_SYMBOLS, ctypes.c_char_p),
                "version": _call(lib, _CONFIG_SYMBOLS, ctypes.c_char_p),
                "num_threads": _call(lib, _THREADS_SYMBOLS, ctypes.c_int),
            }
        )
    return out
