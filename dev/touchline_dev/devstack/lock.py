"""One process per data dir: an exclusive `flock` on `<data_dir>/lock`.

chdb locks its directory to a single process and the DynamoDB snapshot has a single writer, so a
second `touchline dev` on the same data dir must fail at once, naming the process that holds it.
The kernel drops the lock when the holder dies, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path
from types import TracebackType
from typing import IO

LOCK_FILE = "lock"


class DataDirLockedError(RuntimeError):
    """Another process holds the data dir."""

    def __init__(self, data_dir: Path, pid: int | None, role: str) -> None:
        who = f"pid {pid}" if pid else "pid unknown"
        super().__init__(f"data dir {data_dir} is in use by another touchline {role} ({who})")
        self.data_dir = data_dir
        self.pid = pid
        self.role = role


def read_holder(data_dir: Path) -> tuple[int | None, str]:
    """The pid and role recorded by the current (or last) holder."""
    try:
        info = json.loads((data_dir / LOCK_FILE).read_text() or "{}")
    except (OSError, ValueError):
        return None, "dev"
    pid = info.get("pid")
    return (pid if isinstance(pid, int) else None), str(info.get("role", "dev"))


def is_locked(data_dir: Path) -> bool:
    """Whether some process holds the lock right now (a shared probe, released at once)."""
    try:
        handle = open(data_dir / LOCK_FILE, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return False
    with handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        return False


class DataDirLock:
    """`with DataDirLock(path, role="dev"):` — raises `DataDirLockedError` if taken."""

    def __init__(self, data_dir: Path, *, role: str = "dev") -> None:
        self.data_dir = data_dir
        self.role = role
        self._handle: IO[str] | None = None

    def acquire(self, *, wait: float = 0.5) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        handle = open(self.data_dir / LOCK_FILE, "a+")  # noqa: SIM115 - kept open while held
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                # `is_locked` probes briefly hold a shared lock; only a lock that stays is a holder.
                if time.monotonic() >= deadline:
                    handle.close()
                    pid, role = read_holder(self.data_dir)
                    raise DataDirLockedError(self.data_dir, pid, role) from None
                time.sleep(0.05)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "role": self.role}))
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    @property
    def held(self) -> bool:
        return self._handle is not None

    def __enter__(self) -> DataDirLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
