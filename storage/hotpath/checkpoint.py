"""WAL checkpoints of the SQLite reply path, run on a thread of their own instead of inside a commit.

In WAL mode a commit appends the changed pages to the ``-wal`` file; now and then those pages must be
copied back into the database file (a checkpoint, with its fsyncs). SQLite does that by default inside
whichever commit crosses 1,000 pages, and on the reply path that commit runs on the event loop: every
push in flight would wait for the copy and the disk. Here the reply path's connection turns that off
and a ``Checkpointer`` thread, with its own connection, runs a PASSIVE checkpoint (it never blocks a
writer or a reader) after every ``every`` commits. sqlite3 releases the GIL while it works.

The WAL file starts over from its beginning only when a write transaction begins with every frame
copied back, and under load the reply path keeps committing while the thread copies: the thread alone
would never let that happen, and the file would grow for good. So once the thread has caught up
(``caught_up``), the reply path checkpoints the few frames written since, between two commits, and its
next transaction restarts the WAL.

Should the thread fall behind or fail, nothing is lost: the WAL only grows, and the service's other
connections keep SQLite's automatic checkpoint, as does the last connection to close.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger(__name__)

COMMITS_PER_CHECKPOINT = 32  # groups of a dozen pushes or more: roughly every 1,000 to 2,000 WAL pages


class Checkpointer:
    def __init__(self, path: str, every: int = COMMITS_PER_CHECKPOINT) -> None:
        self.path = path
        self.every = max(1, every)
        self.checkpointed = threading.Event()  # set after each checkpoint (tests wait on it)
        self._caught_up = False  # a checkpoint finished since ``caught_up`` last said so
        self._commits = 0
        self._wanted = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def committed(self) -> None:
        """A commit was made on the reply path: ask for a checkpoint every ``every`` commits."""
        self._commits += 1
        if self._commits >= self.every:
            self._commits = 0
            self._wanted.set()

    def caught_up(self) -> bool:
        """True once after each checkpoint of the thread: time for the writer to copy the rest."""
        if not self._caught_up:
            return False
        self._caught_up = False
        return True

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout=0")
            while True:
                self._wanted.wait()
                self._wanted.clear()
                if self._stopping:
                    return
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self._caught_up = True
                    self.checkpointed.set()
                except sqlite3.Error as exc:  # busy with another checkpoint: the next request retries
                    log.warning("WAL checkpoint skipped (%s)", type(exc).__name__)
        except sqlite3.Error:
            log.exception("the WAL checkpoint thread stopped; SQLite's automatic checkpoints remain")
        finally:
            if conn is not None:
                conn.close()

    def stop(self, timeout: float = 10.0) -> None:
        """End the thread (a checkpoint under way finishes first)."""
        self._stopping = True
        self._wanted.set()
        self._thread.join(timeout)
