"""Results files: arrays (npz) and a JSON sidecar, written atomically next to a figure.

The sidecar records the configuration, package versions, backend and device count, git
commit, wall and compile time. Saving a different configuration under a name that
already holds results raises instead of overwriting silently (pass ``overwrite=True`` to
replace).
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import subprocess
import tempfile
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import jax
import numpy as np


def _package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in ("jax", "jaxlib", "flax", "optax", "chex", "numpy", "matplotlib"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_commit() -> str:
    """The current git commit (with '+dirty' when the tree has changes), or
    'unknown'.
    """
    here = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=here,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=here,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def environment_info() -> dict[str, Any]:
    """Backend, devices and package versions of this process."""
    return {
        "backend": jax.default_backend(),
        "device_count": jax.device_count(),
        "devices": [str(d) for d in jax.devices()],
        "process_count": jax.process_count(),
        "x64": bool(jax.config.jax_enable_x64),
        "versions": _package_versions(),
        "git_commit": git_commit(),
        "platform": platform.platform(),
    }


def _jsonable(value):
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)
        }
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray | jax.Array):
        return np.asarray(value).tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _atomic_write(path: Path, write_fn) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write_fn(tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def check_writable(stem: str | os.PathLike, config: Any, *, overwrite: bool = False):
    """Raises ``FileExistsError`` if ``stem.json`` holds another configuration's
    results.

    Call it before a long run so a clash is found before, not after, the work. Returns
    the configuration as JSON-ready data.
    """
    sidecar = Path(stem).with_suffix(".json")
    config_json = _jsonable(config)
    if sidecar.exists() and not overwrite:
        previous = json.loads(sidecar.read_text()).get("config")
        if previous != json.loads(json.dumps(config_json)):
            raise FileExistsError(
                f"{sidecar} holds results of a different configuration; pass "
                "overwrite=True (--overwrite on the command line) or choose another "
                "--out"
            )
    return config_json


def save_results(
    stem: str | os.PathLike,
    arrays: Mapping[str, Any],
    config: Any,
    *,
    timings: Mapping[str, float] | None = None,
    overwrite: bool = False,
) -> tuple[Path, Path]:
    """Writes ``stem.npz`` (arrays) and ``stem.json`` (config + environment) atomically.

    Raises ``FileExistsError`` when ``stem.json`` already holds a different
    configuration, unless ``overwrite``. Re-running the same configuration replaces the
    files.
    """
    stem = Path(stem)
    npz, sidecar = stem.with_suffix(".npz"), stem.with_suffix(".json")
    config_json = check_writable(stem, config, overwrite=overwrite)
    meta = {
        "config": config_json,
        "environment": environment_info(),
        "timings": dict(timings or {}),
        "arrays": {k: list(np.shape(v)) for k, v in arrays.items()},
    }
    host_arrays = {k: np.asarray(v) for k, v in arrays.items()}
    _atomic_write(npz, lambda tmp: np.savez_compressed(open(tmp, "wb"), **host_arrays))
    _atomic_write(sidecar, lambda tmp: Path(tmp).write_text(json.dumps(meta, indent=2)))
    return npz, sidecar


def load_results(
    stem: str | os.PathLike,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Reads back ``(arrays, sidecar)`` written by :func:`save_results`."""
    stem = Path(stem)
    with np.load(stem.with_suffix(".npz")) as data:
        arrays = {k: data[k] for k in data.files}
    return arrays, json.loads(stem.with_suffix(".json").read_text())
