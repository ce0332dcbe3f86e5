"""Facts a query found that a person must be told about, carried without words.

Storage says *what* happened (``fact`` names it, ``details`` hold the values); ``bot.texts.reason`` puts it
into the service's words. ``str()`` gives the fact's name only, so a log line never carries the details.
"""

from __future__ import annotations


class Fact(ValueError):
    def __init__(self, fact: str, **details: object) -> None:
        super().__init__(fact)
        self.fact = fact
        self.details = details

    def __str__(self) -> str:
        return self.fact
