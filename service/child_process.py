"""Children that must not outlive the service: the local model server and extra batch worker processes."""

from __future__ import annotations

import ctypes
import signal
import sys
from typing import Callable


def _die_with_parent() -> None:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that has Linux send the child SIGTERM when its parent dies, even by kill -9 (elsewhere
    None: the child is stopped at exit instead)."""
    return _die_with_parent if sys.platform.startswith("linux") else None
