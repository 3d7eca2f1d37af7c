"""prevalence.workflow.numerics: one OpenBLAS kernel for every job on x86-64."""

from prevalence.workflow.numerics import CORETYPE, blas_environment, has_avx2


def _cpuinfo(tmp_path, flags):
    path = tmp_path / "cpuinfo"
    path.write_text(f"processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: {flags}\n\n")
    return path


def test_an_x86_cpu_with_avx2_gets_the_avx2_kernel(tmp_path):
    cpu = _cpuinfo(tmp_path, "fpu sse2 avx avx2 avx512f avx512bw")
    assert has_avx2(cpu)
    assert blas_environment({}, machine="x86_64", cpuinfo=cpu) == {"OPENBLAS_CORETYPE": CORETYPE}


def test_a_value_already_set_is_kept(tmp_path):
    cpu = _cpuinfo(tmp_path, "avx2")
    assert blas_environment({"OPENBLAS_CORETYPE": "Zen"}, machine="x86_64", cpuinfo=cpu) == {}


def test_without_avx2_or_off_x86_openblas_chooses(tmp_path):
    # "avx2" must be a flag of its own, not part of another
    old = _cpuinfo(tmp_path, "fpu sse2 avx avx2x")
    assert not has_avx2(old)
    assert blas_environment({}, machine="x86_64", cpuinfo=old) == {}
    assert blas_environment({}, machine="arm64", cpuinfo=_cpuinfo(tmp_path, "avx2")) == {}
    assert not has_avx2(tmp_path / "missing")
