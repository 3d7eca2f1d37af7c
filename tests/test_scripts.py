"""The rules' scripts. Snakemake puts their folder first on ``sys.path`` in every job, so a
script named like a module hides that module from every import in the job: numba's optional
``import coverage`` once found ``scripts/coverage.py`` instead of the package, and failed every
wave of 100,000 rows or more. Scripts are therefore named ``rule_<rule>.py``."""

from __future__ import annotations

import importlib.metadata
import pkgutil
import re
import site
import sys
from pathlib import Path

from workflow_project import ROOT

SCRIPTS = ROOT / "scripts"
IMPORT = re.compile(rb"^[ \t]*(?:import|from)[ \t]+([A-Za-z_][A-Za-z0-9_]*)", re.MULTILINE)


def _module_names() -> set[str]:
    """Top-level names Python can import here, and those that installed code tries to import
    (optional imports of modules that are not installed included)."""
    names = set(sys.stdlib_module_names) | set(sys.builtin_module_names)
    names |= {module.name for module in pkgutil.iter_modules()}
    names |= set(importlib.metadata.packages_distributions())
    for folder in {*site.getsitepackages(), str(ROOT / "src")}:
        for path in Path(folder).rglob("*.py"):
            names.update(n.decode() for n in IMPORT.findall(path.read_bytes()))
    return names


def test_no_script_can_hide_a_module():
    assert str(SCRIPTS) not in sys.path
    names = _module_names()
    assert {"json", "numpy", "numba", "pandas", "prevalence", "coverage", "tables"} <= names
    stems = sorted(p.stem for p in SCRIPTS.glob("*.py"))
    assert stems and all(s.startswith("rule_") for s in stems), stems
    assert not [n for n in names if n.startswith("rule_")]
    assert not set(stems) & names


def test_every_script_belongs_to_a_rule_and_every_rule_script_exists():
    used = set()
    for smk in (ROOT / "workflow" / "rules").glob("*.smk"):
        used |= set(re.findall(r'"\.\./\.\./scripts/([^"]+)\.py"', smk.read_text()))
    assert used == {p.stem for p in SCRIPTS.glob("*.py")}


def test_a_full_disk_is_recognised_and_explained():
    import errno

    from prevalence.workflow.steps import disk_full, disk_full_message

    full = OSError(errno.ENOSPC, "No space left on device", "results/tables/prevalence.csv")
    assert disk_full(full) and disk_full(OSError(errno.EDQUOT, "Disk quota exceeded"))
    assert disk_full(OSError("IOError: [Errno 28] No space left on device"))  # arrow's form
    assert not disk_full(OSError(errno.EACCES, "Permission denied"))
    message = disk_full_message(full)
    assert "the disk is full" in message and "results/tables/prevalence.csv" in message
    assert "make run` again" in message
