"""Bounds on SymPy work: whatever a file or a student supplies ends, with a clear message.

SymPy calls are not interruptible from inside, so the bound is a timer
signal (SIGALRM) that raises Timeout in the main thread. Outside the main
thread no timer can be set, and `time_limit` refuses at once: callers treat
that as "not decided" rather than risk a hang.
"""

import signal
import threading
from contextlib import contextmanager

from ..errors import Timeout


@contextmanager
def time_limit(seconds, what="symbolic work"):
    """Raise Timeout if the block takes longer than `seconds`."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        raise Timeout(f"{what}: no time limit can be set outside the main thread")

    def expire(signum, frame):
        raise Timeout(f"{what} took longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
