"""Grading sheets in a child process, one at a time, each within a time and a memory budget.

Limits inside the process bound most work (derive.symbolic.limits), but not
all of it: a C routine a timer signal cannot interrupt, a structure that
grows past the machine's memory, a bug of derive's that ends the
interpreter. So a class is graded in a forked child process, which already
holds the solved problem: the parent hands it the sheets in order, reads
back each result, and watches the clock. A sheet that takes longer than
its budget has its child killed; one whose child runs out of its memory
budget or dies gets a line saying so; either way a new child carries on
with the next sheet, and every sheet has its result, in order.

Where there is no fork (Windows) the sheets are graded in this process,
each still under the per-answer time limit, a failure of any kind still
becoming that sheet's line.
"""

import os
import pickle
import select
import signal
import struct
import sys
import time
from dataclasses import dataclass

SHEET_SECONDS = 120.0
MEMORY_BYTES = 2 * 1024 ** 3  # address space a child may add to what it starts with
_HEADER = struct.Struct("<Q")


@dataclass(frozen=True)
class Budget:
    """What one sheet may cost: wall-clock seconds, and bytes of memory beyond the grader's own."""

    sheet_seconds: float = SHEET_SECONDS
    memory_bytes: int = MEMORY_BYTES


def run_isolated(tasks, work, failed, budget=Budget()):
    """[work(task) for task in tasks], each within `budget`.

    `work` runs in a child process and returns something picklable; a task
    over its budget, or whose child dies, gets `failed(task, reason)`
    instead, computed in this process. An exception `work` raises is its
    task's failure too ("internal error: ..."): one task never stops the rest.
    """
    tasks = list(tasks)
    if not hasattr(os, "fork"):
        return [_in_process(task, work, failed) for task in tasks]
    results = []
    while len(results) < len(tasks):
        results += _run_child(tasks, len(results), work, failed, budget)
    return results


def _in_process(task, work, failed):
    try:
        return work(task)
    except MemoryError:
        return failed(task, "grading stopped: over the memory budget")
    except Exception as error:  # a bug of derive's: this task's line says so
        return failed(task, f"grading stopped: internal error ({type(error).__name__})")


def _run_child(tasks, start, work, failed, budget):
    """Results from tasks[start] on, until they end or one fails (its failure is the last result)."""
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_end)
        _child(tasks, start, work, write_end, budget)
    os.close(write_end)
    results = []
    reader = _Reader(read_end)
    try:
        index, started = start, time.monotonic()
        while index < len(tasks):
            remaining = budget.sheet_seconds - (time.monotonic() - started)
            message = reader.next(max(remaining, 0.0))
            if message is _Reader.TIMEOUT:
                _kill(pid)
                results.append(failed(tasks[index], f"grading stopped: over the time budget of "
                                                    f"{budget.sheet_seconds:g} s"))
                return results
            if message is _Reader.END:
                status = _reap(pid)
                results.append(failed(tasks[index], f"grading stopped: {status}"))
                return results
            kind, payload = message
            if kind == "done":
                results.append(payload)
            else:
                results.append(failed(tasks[index], payload))
            index, started = index + 1, time.monotonic()
        return results
    except BaseException:
        _kill(pid)
        raise
    finally:
        os.close(read_end)
        _reap(pid)


def _child(tasks, start, work, write_end, budget):
    """Grade tasks[start:], sending each result; exit without running the parent's clean-up."""
    code = 0
    try:
        import faulthandler

        faulthandler.disable()  # a sheet that crashes its process is reported as its line, not a dump
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        # made before the cap: when a task runs out of memory, its line must not need any more
        over_memory = ("failed", f"grading stopped: over the memory budget of {budget.memory_bytes // 2 ** 20} MB")
        _limit_memory(budget.memory_bytes)
        with os.fdopen(write_end, "wb") as out:
            for task in tasks[start:]:
                try:
                    message = ("done", work(task))
                except MemoryError:
                    message = over_memory  # what the task holds is freed as this clause ends
                except Exception as error:  # a bug of derive's: this task's line says so
                    message = ("failed", f"grading stopped: internal error ({type(error).__name__})")
                try:
                    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
                except Exception as error:
                    data = pickle.dumps(("failed", f"grading stopped: internal error ({type(error).__name__})"))
                out.write(_HEADER.pack(len(data)) + data)
                out.flush()
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _limit_memory(extra):
    """Cap the child's address space at what it has now plus `extra` bytes (where the system allows)."""
    try:
        import resource

        with open("/proc/self/statm") as statm:
            size = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = size + extra
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, OSError, ValueError):
        pass  # no /proc or no RLIMIT_AS: the time budget still holds


class _Reader:
    """Length-prefixed pickled messages from the child, each awaited at most so long."""

    TIMEOUT = object()
    END = object()

    def __init__(self, fd):
        self.fd = fd
        self.buffer = b""

    def next(self, seconds):
        deadline = time.monotonic() + seconds
        while True:
            if len(self.buffer) >= _HEADER.size:
                (size,) = _HEADER.unpack_from(self.buffer)
                if len(self.buffer) >= _HEADER.size + size:
                    data = self.buffer[_HEADER.size:_HEADER.size + size]
                    self.buffer = self.buffer[_HEADER.size + size:]
                    return pickle.loads(data)  # our own child's message
            wait = deadline - time.monotonic()
            if wait <= 0:
                return self.TIMEOUT
            ready, _, _ = select.select([self.fd], [], [], wait)
            if not ready:
                return self.TIMEOUT
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                return self.END
            self.buffer += chunk


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _reap(pid):
    """Wait for the child; how it ended, in words."""
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return "the grading process ended"
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else str(number)
        return f"the grading process was ended by signal {name} (out of memory?)" if number == signal.SIGKILL \
            else f"the grading process was ended by signal {name}"
    return f"the grading process ended unexpectedly (exit status {os.WEXITSTATUS(status)})"
