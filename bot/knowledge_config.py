"""``[knowledge]``: following published console edits (kept apart from bot.config, which is at its size limit)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class KnowledgeConfig:
    """How often each process looks for a new knowledge version (seconds), and where the sealed evaluation
    batches that gate a publish are (empty: tests/eval of the project)."""

    poll_seconds: int = 10
    eval_dir: str = ""

    def eval_path(self) -> Path | None:
        if not self.eval_dir:
            return None
        path = Path(self.eval_dir)
        return path if path.is_absolute() else PROJECT_ROOT / path

    def problems(self) -> list[str]:
        if not 1 <= self.poll_seconds <= 3600:
            return [f"[knowledge] poll_seconds: must be between 1 and 3600, got {self.poll_seconds}"]
        return []
