"""The built knowledge base saved to a file, so the service starts in about a second instead of rebuilding.

Building means segmenting every phrasing and every learned question with jieba and training the
classifier: many seconds. The finished ``KnowledgeBase`` (index, classifier, jieba's dictionary
included) is pickled to ``knowledge-<fingerprint>.pickle`` in the knowledge cache folder
(``KB_CACHE_DIR``, else ``var/cache``). The fingerprint is a hash of every data file, the knowledge code
and the reply texts it embeds, and the Python and jieba versions: when any of them changes the file no
longer matches and the knowledge base is built afresh (and saved, replacing the old file). A file that
cannot be read is rebuilt too. The first start after installing or changing the data builds it, as does
``python -m knowledge.snapshot`` (run it at install or build time).

The file is written by this service into its own cache folder and read only from there: a pickle is code,
so the folder must not be writable by anyone the service does not trust.
"""

from __future__ import annotations

import copyreg
import gc
import hashlib
import io
import logging
import os
import pickle
import sys
import tempfile
import threading
from pathlib import Path

import jieba

from knowledge import answerer
from knowledge.answerer import KnowledgeBase, load_knowledge_base
from knowledge.loader import DATA_DIR
from knowledge.tokenize import cache_dir

log = logging.getLogger(__name__)

FORMAT = 1  # bump when the file layout changes
_PACKAGE = Path(__file__).resolve().parent
_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))


def fingerprint(data_dir: Path = DATA_DIR) -> str:
    """sha256 of what a built knowledge base depends on: data files, knowledge code, embedded texts, versions."""
    digest = hashlib.sha256(f"{FORMAT} {sys.version} jieba {jieba.__version__}".encode())
    sources = [*sorted(_PACKAGE.rglob("*.py")), Path(answerer.texts.__file__).resolve()]
    for label, paths in (("data", sorted(p for p in Path(data_dir).rglob("*") if p.is_file())), ("code", sources)):
        for path in paths:
            digest.update(f"\0{label}:{path.name}:{path.stat().st_size}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _dumps(kb: KnowledgeBase) -> bytes:
    """Pickle, with jieba's tokenizer lock (not picklable) recreated fresh on load."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = copyreg.dispatch_table.copy()
    pickler.dispatch_table[_LOCK_TYPES[0]] = lambda _lock: (threading.Lock, ())
    pickler.dispatch_table[_LOCK_TYPES[1]] = lambda _lock: (threading.RLock, ())
    pickler.dump((FORMAT, kb))
    return buffer.getvalue()


def snapshot_path(fp: str, folder: Path | None = None) -> Path:
    return (folder or cache_dir()) / f"knowledge-{fp[:24]}.pickle"


def _read(path: Path) -> KnowledgeBase | None:
    try:
        gc.disable()  # hundreds of thousands of objects: no collections half-way through
        try:
            form, kb = pickle.loads(path.read_bytes())
        finally:
            gc.enable()
    except FileNotFoundError:
        return None
    except Exception as exc:  # truncated, or from an incompatible build: rebuild
        log.warning("knowledge snapshot %s unreadable (%s); rebuilding", path.name, type(exc).__name__)
        return None
    if form != FORMAT or not isinstance(kb, KnowledgeBase):
        log.warning("knowledge snapshot %s has another format; rebuilding", path.name)
        return None
    return kb


def _write(kb: KnowledgeBase, path: Path) -> None:
    """Atomically (a reader never sees half a file), then remove the snapshots of older data."""
    try:
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".knowledge-", delete=False) as tmp:
            tmp.write(_dumps(kb))
        os.replace(tmp.name, path)
    except OSError as exc:
        log.warning("could not save the knowledge snapshot (%s): the next start builds again", exc)
        Path(tmp.name).unlink(missing_ok=True)
        return
    for old in path.parent.glob("knowledge-*.pickle"):
        if old != path:
            old.unlink(missing_ok=True)


def load_snapshot_or_build(data_dir: Path | None = None, folder: Path | None = None) -> KnowledgeBase:
    """The knowledge base for ``data_dir``: from its snapshot when one matches, else built and saved."""
    source = data_dir or DATA_DIR
    path = snapshot_path(fingerprint(source), folder)
    kb = _read(path)
    if kb is None:
        kb = load_knowledge_base(data_dir)
        _write(kb, path)
        return kb
    kb.answer("PFOS还能用吗")  # touch every code path once, as a fresh build does
    gc.freeze()  # as load_knowledge_base: keep the long-lived index out of the collector's way (a freshly
    # unpickled object graph has no garbage to collect first)
    return kb


def main() -> None:
    """Build (or confirm) the snapshot for the installed data: ``python -m knowledge.snapshot``."""
    path = snapshot_path(fingerprint())
    before = path.stat().st_mtime_ns if path.exists() else None
    kb = load_snapshot_or_build()
    state = "up to date" if before is not None and path.stat().st_mtime_ns == before else "built"
    print(f"{path} ({state}; {kb.entry_count} entries, {kb.passage_count} passages)")


if __name__ == "__main__":
    main()
