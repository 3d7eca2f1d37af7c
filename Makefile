# Two commands do everything on a fresh machine:
#   make run    create .venv, install the pinned dependencies, run the whole workflow
#   make test   the same set-up, then every check and the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CORES ?= 2
STAMP := $(VENV)/.installed
SNAKEMAKE := $(BIN)/snakemake --workflow-profile workflow/profiles/default --cores $(CORES)

.PHONY: run run-locked test test-slow test-faults verify lint report dry-run clean lock bench bench-workflow

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "prevalence needs Python 3.11 or newer and $(PYTHON) is not installed: install Python 3.11+ (python.org, or your system's python3 package), or run make PYTHON=/path/to/python3.11"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "prevalence needs Python 3.11 or newer and $(PYTHON) is $$($(PYTHON) -V 2>&1): install Python 3.11+, or run make PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

# One run at a time in this folder: a second `make run` while one runs stops with a message
# and the first goes on. A run stopped by Ctrl-C, a kill or a power cut leaves Snakemake's lock
# and unfinished outputs behind: the next `make run` clears the lock (no run holds it: the
# folder's run lock is free) and runs the unfinished jobs again (--rerun-incomplete, in the
# workflow profile). The console shows Snakemake's progress, one line per job and, at the end,
# the run's summary (results/summary.txt); every job's details are in results/logs/.
RUN_LOCK := .snakemake/make-run.lock
BUSY := 75

run: $(STAMP)
	@mkdir -p .snakemake
	@flock -n -E $(BUSY) $(RUN_LOCK) $(MAKE) --no-print-directory run-locked || { status=$$?; \
	  if [ $$status = $(BUSY) ]; then \
	    echo "error: another \`make run\` is running in this folder; this one does nothing." >&2; \
	    echo "  fix: wait for it to finish (or stop it with Ctrl-C), then run \`make run\` again" >&2; \
	  fi; exit $$status; }

run-locked:
	@if [ -n "$$(ls -A .snakemake/locks 2>/dev/null)" ]; then \
	  echo "An earlier run was interrupted: clearing its lock; its unfinished jobs run again."; \
	  $(BIN)/snakemake --unlock --quiet; fi
	@start=$$(date +%s.%N); \
	PREVALENCE_SUMMARY=later $(SNAKEMAKE) || \
	  { status=$$?; $(BIN)/python -m prevalence summary --failed --started $$start; exit $$status; }; \
	$(SNAKEMAKE) --report results/report.html > results/logs/report.log 2>&1 || \
	  { status=$$?; tail -n 20 results/logs/report.log; exit $$status; }; \
	echo "report: results/report.html"; \
	$(BIN)/python -m prevalence summary --started $$start

# Checks every output in results/ against results/manifest.json: changed, truncated, removed.
verify: $(STAMP)
	$(BIN)/python -m prevalence verify results

report: $(STAMP)
	$(SNAKEMAKE) --report results/report.html

dry-run: $(STAMP)
	$(BIN)/snakemake --cores $(CORES) --dry-run --quiet

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakemake --lint

test: lint
	$(BIN)/snakemake --cores 1 --dry-run --quiet
	$(BIN)/python -m pytest -m "not faults and not slow"

# Long workflow runs of what rarely breaks: drafted codebooks of the embedded SPSS and Stata waves
# through `prevalence run`, and a second whole run elsewhere, byte for byte (about two minutes).
test-slow: $(STAMP)
	$(BIN)/python -m pytest -m "slow and not faults"

# Faults a user meets, each through the real workflow: an interrupted run, two runs at once,
# a full disk (root only: a small tmpfs), changed outputs (about a minute and a half).
test-faults: $(STAMP)
	$(BIN)/python -m pytest -m faults

lock: $(STAMP)
	{ echo '# Exact versions installed by `make` (pip install -r requirements.lock). Regenerate with `make lock`.'; \
	  $(BIN)/python -m pip freeze --exclude-editable | sort; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

# Speed and memory against R's survey, svy and samplics (about 15 minutes; see benchmarks/).
bench: $(STAMP)
	env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE $(BIN)/python benchmarks/run.py \
	  --sizes 1e4 1e5 1e6 --tools prevalence r svy samplics pandas --replicates 200 \
	  --out benchmarks/RESULTS.md

# The whole workflow on generated waves of 10^3 to 10^7 respondents, as a user runs it: time and
# memory of every rule, against pyarrow's read of the same file (about 30 minutes on 2 cores;
# see benchmarks/bench_workflow.py). Run it on a quiet machine.
bench-workflow: $(STAMP)
	$(BIN)/python benchmarks/bench_workflow.py --out benchmarks/RESULTS.md

clean:
	rm -rf results data/processed .snakemake

# The workflow on a throw-away single-node SLURM (needs root: installs slurm-wlm and munge, starts
# the daemons, stops them at the end) through workflow/profiles/slurm, compared with a local run.
.PHONY: test-slurm
test-slurm: $(STAMP)
	bash tests/slurm/run_slurm_test.sh
