"""prevalence.stats.coverage: exact and simulated coverage of interval methods, the step, command."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from prevalence.errors import ConfigError
from prevalence.stats.coverage import (
    DEFAULT_METHODS,
    TABLE_COLUMNS,
    _simulate_sums,
    exact_coverage,
    parse_grid,
    simulated_coverage,
    summarize_coverage,
)
from prevalence.stats.intervals import METHODS
from prevalence.workflow.steps import coverage_main as main
from prevalence.workflow.steps import coverage_step

SIMULATED_COLUMNS = [
    "method",
    "clusters",
    "cluster_size",
    "n",
    "p",
    "deff",
    "icc",
    "level",
    "variance",
    "reps",
    "seed",
    "coverage",
    "mc_se",
    "undefined",
    "mean_width",
]


# --------------------------------------------------------------------------------------
# exact coverage
# --------------------------------------------------------------------------------------
def test_exact_coverage_known_values_n50_p010():
    table = exact_coverage(["wilson", "clopper-pearson", "wald"], 50, 0.1, 0.95)
    coverage = dict(zip(table["method"], table["coverage"], strict=True))
    # statsmodels: 0.97031, 0.97031, 0.87892
    assert coverage["wilson"] == pytest.approx(0.970, abs=1e-3)
    assert coverage["clopper-pearson"] == pytest.approx(0.970, abs=1e-3)
    assert coverage["wald"] == pytest.approx(0.879, abs=1e-3)
    assert coverage["wald"] == pytest.approx(0.87892, abs=1e-5)
    assert list(table.columns) == [
        "method",
        "n",
        "p",
        "level",
        "variance",
        "coverage",
        "mean_width",
        "undefined",
    ]


@pytest.mark.parametrize(
    ("method", "statsmodels_name"),
    [
        ("wald", "normal"),
        ("wilson", "wilson"),
        ("clopper-pearson", "beta"),
        ("agresti-coull", "agresti_coull"),
    ],
)
def test_exact_coverage_matches_statsmodels_intervals(method, statsmodels_name):
    n, grid = 30, np.array(parse_grid("0.01:0.99:0.01"))
    x = np.arange(n + 1)
    low, high = proportion_confint(x, n, alpha=0.05, method=statsmodels_name)
    low, high = np.clip(low, 0, 1), np.clip(high, 0, 1)
    covers = (low[:, None] <= grid) & (grid <= high[:, None])
    expected = (stats.binom.pmf(x[:, None], n, grid) * covers).sum(axis=0)
    table = exact_coverage(method, n, grid)
    np.testing.assert_allclose(table["coverage"], expected, atol=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_exact_coverage_is_a_probability_for_every_method(method):
    grid = [0.0, 0.001, 0.05, 0.25, 0.5, 0.83, 0.999, 1.0]
    table = exact_coverage(method, [1, 4, 18, 55], grid)
    assert len(table) == 4 * len(grid)
    assert table["coverage"].between(0.0, 1.0).all()
    assert (table["mean_width"] >= 0).all()
    assert (table["undefined"] == 0).all()  # the classical interval is always defined


@pytest.mark.parametrize("method", METHODS)
def test_exact_coverage_symmetric_in_p_and_one_minus_p(method):
    # every method is symmetric in the classical case: the interval of n - x is 1 - that of x
    p = np.array(parse_grid("0.01:0.49:0.01"))
    for n in (4, 18, 55):
        below = exact_coverage(method, n, p)["coverage"].to_numpy()
        above = exact_coverage(method, n, 1.0 - p)["coverage"].to_numpy()
        np.testing.assert_allclose(below, above, atol=1e-9)


def test_exact_coverage_at_p_zero_and_one():
    table = exact_coverage(["wald", "clopper-pearson"], 20, [0.0, 1.0])
    # every sample gives x = 0 (or n); wald's [0, 0] and Clopper-Pearson's [0, 0.168] contain 0
    assert (table["coverage"] == 1.0).all()


def test_design_variance_differs_from_classical():
    # se^2 = p(1-p)/(n-1) with t_{n-1}: what the estimation step gives an unclustered sample
    classical = exact_coverage("clopper-pearson", 50, 0.1)["coverage"].iloc[0]
    design = exact_coverage("clopper-pearson", 50, 0.1, variance="design")
    assert classical == pytest.approx(0.97031, abs=1e-5)
    assert design["coverage"].iloc[0] == pytest.approx(0.98549, abs=1e-5)
    assert (design["variance"] == "design").all()
    # n = 1 has df = 0: every interval is undefined and none covers
    single = exact_coverage("wilson", 1, 0.3, variance="design")
    assert single["coverage"].iloc[0] == 0.0
    assert single["undefined"].iloc[0] == pytest.approx(1.0)


def test_exact_coverage_grid_is_fast():
    import time

    start = time.perf_counter()
    table = exact_coverage(DEFAULT_METHODS, [30, 55, 150], "0.01:0.99:0.01")
    assert time.perf_counter() - start < 3.0
    assert len(table) == 3 * 5 * 99


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"methods": "wilsn"}, "unknown confidence interval method"),
        ({"methods": []}, "no interval method"),
        ({"n": 0}, "whole number >= 1"),
        ({"n": 2.5}, "whole number >= 1"),
        ({"n": True}, "whole number >= 1"),
        ({"p": 1.2}, r"proportions in \[0, 1\]"),
        ({"p": [0.1, float("nan")]}, r"proportions in \[0, 1\]"),
        ({"level": 1.5}, "strictly between 0 and 1"),
        ({"variance": "srs"}, "unknown standard error"),
    ],
)
def test_exact_coverage_rejects_bad_arguments(kwargs, match):
    arguments = {"methods": "wilson", "n": 10, "p": 0.5, "level": 0.95, **kwargs}
    variance = arguments.pop("variance", "classical")
    with pytest.raises(ConfigError, match=match):
        exact_coverage(**arguments, variance=variance)


def test_parse_grid():
    grid = parse_grid("0.01:0.99:0.01")
    assert len(grid) == 99
    assert grid == [k / 100 for k in range(1, 100)]
    assert parse_grid("0.5") == [0.5]
    assert parse_grid("0:1:0.25") == [0.0, 0.25, 0.5, 0.75, 1.0]
    for bad in ("a:b:c", "0.9:0.1:0.1", "0:1:0", "0:1", "0:2:1", "nan", ""):
        with pytest.raises(ConfigError):
            parse_grid(bad)


# --------------------------------------------------------------------------------------
# simulated coverage
# --------------------------------------------------------------------------------------
def test_simulation_with_deff_1_agrees_with_exact_design_coverage():
    """Clusters of one respondent and deff = 1: a simple random sample of n = 50.

    The simulation analyses each sample with the design-based variance
    sum_c (y_c - phat)^2 / (C (C - 1)) = phat(1-phat)/(n-1) and df = n - 1, so the
    exact reference is exact_coverage(variance="design"), not the classical
    interval: the two differ by 0.015 for Clopper-Pearson at p = 0.1, five
    Monte Carlo SEs. Against the right reference the difference is pure
    Monte Carlo error.
    """
    p = [0.05, 0.1, 0.3, 0.5]
    methods = ["wilson", "clopper-pearson"]
    simulated = simulated_coverage(
        methods, clusters=50, cluster_size=1, p=p, deff=1.0, reps=20000, seed=11
    )
    exact = exact_coverage(methods, 50, p, variance="design")
    assert list(simulated["method"]) == list(exact["method"])
    assert list(simulated["p"]) == list(exact["p"])
    z = (simulated["coverage"] - exact["coverage"]) / simulated["mc_se"]
    assert (z.abs() < 3).all(), z.tolist()
    assert (simulated["icc"] == 0).all()
    assert (simulated["undefined"] == 0).all()


def test_cluster_model_has_the_design_effect():
    """Var(phat) = deff p(1-p)/n, and the Taylor variance estimates it without bias."""
    clusters, size, deff, p, reps = 20, 5, 3.0, 0.3, 100_000
    rng = np.random.default_rng(5)
    total, spread = _simulate_sums(rng, p, (deff - 1) / (size - 1), clusters, size, reps)
    n = clusters * size
    phat = total / n
    v = spread / (clusters**2 * (clusters - 1) * size**2)
    target = deff * p * (1 - p) / n
    assert phat.mean() == pytest.approx(p, abs=4 * np.sqrt(target / reps))
    assert phat.var() == pytest.approx(target, rel=0.02)
    assert v.mean() == pytest.approx(target, rel=0.02)
    assert (spread >= 0).all()


def test_simulation_structure_and_reproducibility_under_deff_3():
    arguments = {
        "clusters": 10,
        "cluster_size": 6,
        "p": [0.1, 0.3],
        "deff": 3.0,
        "reps": 4000,
        "seed": 7,
    }
    methods = ["wald", "wilson", "clopper-pearson", "korn-graubard"]
    first = simulated_coverage(methods, **arguments)
    second = simulated_coverage(methods, **arguments)
    pd.testing.assert_frame_equal(first, second)
    other = simulated_coverage(methods, **{**arguments, "seed": 8})
    assert not first["coverage"].equals(other["coverage"])

    assert list(first.columns) == SIMULATED_COLUMNS
    assert list(first["method"]) == [m for m in methods for _ in range(2)]
    assert (first["n"] == 60).all()
    assert first["icc"].iloc[0] == pytest.approx(0.4)
    assert (first["reps"] == 4000).all()
    assert first["coverage"].between(0, 1).all()
    assert first["undefined"].between(0, 1).all()
    expected_se = np.sqrt(first["coverage"] * (1 - first["coverage"]) / 4000)
    np.testing.assert_allclose(first["mc_se"], expected_se)
    # 9 df and deff 3: the intervals are honest only in the middle; at p = 0.1
    # Clopper-Pearson on the effective sample size covers about 86%
    middle = first.loc[first["p"] == 0.3].set_index("method")["coverage"]
    assert middle.between(0.90, 0.99).all(), middle.to_dict()


def test_simulation_extreme_designs():
    # rho = 1 (deff = m): clusters are all cases or none
    table = simulated_coverage(
        "wilson", clusters=8, cluster_size=4, p=[0.0, 0.5], deff=4.0, reps=500, seed=1
    )
    assert table["icc"].iloc[0] == 1.0
    assert table["coverage"].between(0, 1).all()
    # p = 0: every sample has no case; Wilson's [0, u] contains 0
    assert table.loc[table["p"] == 0.0, "coverage"].iloc[0] == 1.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"clusters": 1}, "number of clusters"),
        ({"cluster_size": 0}, "cluster size"),
        ({"deff": 0.5}, "design effect"),
        ({"deff": 6.0}, "design effect"),
        ({"cluster_size": 1, "deff": 2.0}, "clusters of one respondent"),
        ({"reps": 0}, "replicates"),
        ({"seed": -1}, "seed"),
        ({"level": 0.0}, "strictly between 0 and 1"),
    ],
)
def test_simulation_rejects_bad_arguments(kwargs, match):
    arguments = {"clusters": 10, "cluster_size": 5, "p": 0.2, "deff": 2.0, "reps": 10, **kwargs}
    with pytest.raises(ConfigError, match=match):
        simulated_coverage("wilson", **arguments)


# --------------------------------------------------------------------------------------
# summary, chart, step and command
# --------------------------------------------------------------------------------------
def test_summary_gives_minimum_and_mean_per_method():
    table = exact_coverage(["wald", "clopper-pearson"], 30, "0.05:0.95:0.05")
    summary = summarize_coverage(table)
    assert list(summary["method"]) == ["wald", "clopper-pearson"]
    cp = summary.set_index("method").loc["clopper-pearson"]
    assert cp["min_coverage"] >= 0.95  # Clopper-Pearson never covers less than nominal
    assert cp["share_below"] == 0.0
    wald = table.loc[table["method"] == "wald"]
    assert summary["min_coverage"].iloc[0] == wald["coverage"].min()
    assert summary["p_at_min"].iloc[0] == wald.loc[wald["coverage"].idxmin(), "p"]


def test_step_writes_table_and_chart_and_reruns_byte_identical(tmp_path):
    settings = {
        "n": [18, 55],
        "p": "0.1:0.9:0.1",
        "methods": ["wald", "wilson"],
        "level": 0.95,
        "simulate": {"clusters": 10, "cluster_size": 4, "deff": 2, "reps": 300, "seed": 3},
    }
    outputs = []
    for run in ("a", "b"):
        table = coverage_step(
            **settings,
            out_table=tmp_path / run / "coverage.csv",
            out_figure_stem=tmp_path / run / "coverage",
        )
        outputs.append(table)
    assert list(table.columns) == list(TABLE_COLUMNS)
    assert list(table["source"].unique()) == ["exact", "simulated"]
    assert len(table) == 2 * 2 * 9 + 2 * 9
    for name in ("coverage.csv", "coverage.png", "coverage.svg", "coverage.pdf"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    written = pd.read_csv(tmp_path / "a" / "coverage.csv")
    assert list(written.columns) == list(TABLE_COLUMNS)
    assert written.loc[written["source"] == "exact", "clusters"].isna().all()


def test_step_rejects_unknown_simulation_setting_and_writes_nothing(tmp_path):
    with pytest.raises(ConfigError, match="unknown simulation setting"):
        coverage_step(
            n=10,
            p=0.5,
            methods="wilson",
            level=0.95,
            simulate={"clusters": 5, "cluster_size": 2, "icc": 0.1},
            out_table=tmp_path / "t.csv",
            out_figure_stem=tmp_path / "c",
        )
    assert list(tmp_path.iterdir()) == []


def test_command_writes_table_and_figures(tmp_path, capsys):
    out_table = tmp_path / "tables" / "coverage.csv"
    stem = tmp_path / "figures" / "coverage"
    status = main(
        [
            "--n",
            "30",
            "55",
            "--p",
            "0.1:0.9:0.1",
            "--methods",
            "wald",
            "wilson",
            "clopper-pearson",
            "--level",
            "0.95",
            "--out-table",
            str(out_table),
            "--out-figure",
            str(stem),
        ]
    )
    assert status == 0
    table = pd.read_csv(out_table)
    assert len(table) == 2 * 3 * 9
    for suffix in (".png", ".svg", ".pdf"):
        assert stem.with_name("coverage" + suffix).is_file()
    printed = capsys.readouterr().out
    assert "n = 55" in printed and "clopper-pearson" in printed


def test_command_rejects_level_above_one_cleanly(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "prevalence.workflow.steps", "coverage", "--level", "1.5"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert run.returncode == 2
    assert "--level" in run.stderr and "between 0 and 1" in run.stderr
    assert "Traceback" not in run.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["--methods", "wilsn"], "unknown confidence interval method"),
        (["--p", "5"], "proportions"),
        (["--clusters", "20"], "--clusters needs --simulate"),
        (["--simulate", "--clusters", "20"], "--cluster-size"),
        (["--simulate", "--clusters", "20", "--cluster-size", "5", "--deff", "9"], "design"),
    ],
)
def test_command_bad_arguments_exit_2(argv, match, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert match in capsys.readouterr().err
