"""Benchmark worker: a plain :func:`pandas.read_parquet` of a data file (run by ``run.py``).

The reference point of the benchmark: how long reading the file takes. The
``run`` events time the whole read (default reader options, pyarrow engine);
``result.json`` gives the size of the columns read.
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

import harness
import pandas as pd


def main() -> None:
    """Command line (see ``run.py``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    progress = harness.Progress(args.out)
    frame, _ = harness.timed_repeats(lambda: pd.read_parquet(args.file), progress)
    harness.write_result(
        args.out,
        {
            "loaded_bytes": int(frame.memory_usage(deep=True, index=False).sum()),
            "file_bytes": args.file.stat().st_size,
            "shape": list(frame.shape),
            "versions": {
                "python": platform.python_version(),
                **harness.versions(["pandas", "pyarrow"]),
            },
        },
    )
    progress.event("done")


if __name__ == "__main__":
    main()
