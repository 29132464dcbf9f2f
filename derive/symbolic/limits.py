"""Bounds on SymPy work: whatever a file or a student supplies ends, with a clear message.

SymPy calls are not interruptible from inside, so the bound is a timer
signal (SIGALRM) that raises Timeout in the main thread. Outside the main
thread no timer can be set, and `time_limit` refuses at once: callers treat
that as "not decided" rather than risk a hang.
"""

import signal
import threading
import time
from contextlib import contextmanager

from ..errors import Timeout

RETRY = 0.05  # s: after the limit, the timer fires again this often until the block has ended


@contextmanager
def time_limit(seconds, what="symbolic work"):
    """Raise Timeout if the block takes longer than `seconds`.

    The Timeout is raised wherever the main thread is when the timer fires.
    Code there may swallow it (a library's `except Exception`, a garbage
    collector's callback), so the timer keeps firing every RETRY seconds
    until the Timeout gets out, and a block that ends after its time with
    the Timeout swallowed still raises it on the way out. A limit inside
    another leaves the outer one running, less the time spent inside.
    """
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        raise Timeout(f"{what}: no time limit can be set outside the main thread")
    message = f"{what} took longer than {seconds:g} s"
    expired = []

    def expire(signum, frame):
        expired.append(True)
        raise Timeout(message)

    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, expire)
    outer_delay, outer_interval = signal.setitimer(signal.ITIMER_REAL, seconds, RETRY)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_delay or outer_interval:  # an enclosing limit: give it back what remains of its time
            remaining = outer_delay - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(remaining, 1e-6), outer_interval)
    if expired:
        raise Timeout(message)
