"""A short fingerprint of the knowledge data files: what the status command reports as the knowledge version."""

from __future__ import annotations

import hashlib
from pathlib import Path

# The data folder (knowledge.loader names it too, but importing the loader would load every data module)
DATA_DIR = Path(__file__).resolve().parent / "data"


def data_version(data_dir: Path | None = None) -> tuple[str, int]:
    """(first 12 hex digits of a SHA-256 over every data file's path and bytes, number of files)."""
    root = data_dir or DATA_DIR
    digest = hashlib.sha256()
    files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12], len(files)
