"""Grading sheets in a child process, one at a time, each within a time and a memory budget.

Limits inside the process bound most work (derive.symbolic.limits), but not
all of it: a C routine a timer signal cannot interrupt, a structure that
grows past the machine's memory, a bug of derive's that ends the
interpreter. So a class is graded in forked child processes (one per core,
at most two), which already hold the solved problem: each takes every
other sheet in order, the parent reads back each result, and watches each
child's clock. A sheet that takes longer than its budget has its child
killed; one whose child runs out of its memory budget or dies gets a line
saying so; either way a new child carries on with that child's next sheet,
and every sheet has its result, in sheet order.

Where there is no fork (Windows) the sheets are graded in this process,
each still under the per-answer time limit, a failure of any kind still
becoming that sheet's line.
"""

import gc
import io
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
_HEADER = struct.Struct("<Q")  # a message's length, with _FRESH set on the first message of a new pickler
_FRESH = 1 << 63


@dataclass(frozen=True)
class Budget:
    """What one sheet may cost: wall-clock seconds, and bytes of memory beyond the grader's own."""

    sheet_seconds: float = SHEET_SECONDS
    memory_bytes: int = MEMORY_BYTES


def run_isolated(tasks, work, failed, budget=Budget(), workers=None):
    """[work(task) for task in tasks], each within `budget`.

    `work` runs in a child process and returns something picklable; a task
    over its budget, or whose child dies, gets `failed(task, reason)`
    instead, computed in this process. An exception `work` raises is its
    task's failure too ("internal error: ..."): one task never stops the rest.
    The tasks are shared among `workers` children (by default one per core,
    at most WORKERS), task i going to child i mod workers; the results are
    in task order whatever the number of children.
    """
    tasks = list(tasks)
    if not hasattr(os, "fork"):
        return [_in_process(task, work, failed) for task in tasks]
    workers = max(1, min(len(tasks), workers or _cores()))
    lanes = [_Lane(list(range(start, len(tasks), workers)), tasks, work, failed, budget)
             for start in range(workers)]
    collecting = gc.isenabled()
    gc.disable()  # the results are plain data that grows by the thousand: collecting it often costs and frees nothing
    try:
        _run_lanes(lanes)
    finally:
        for lane in lanes:
            lane.stop()
        if collecting:
            gc.enable()
    results = [None] * len(tasks)
    for lane in lanes:
        for index, result in zip(lane.indices, lane.results):
            results[index] = result
    return results


GATHER_SECONDS = 0.004  # how long the parent lets results gather before reading what has come
WORKERS = 2  # grading children at most: the gain of a third is small beside the memory it holds


def _cores():
    try:
        count = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        count = os.cpu_count() or 1
    return max(1, min(WORKERS, count))


def _in_process(task, work, failed):
    try:
        return work(task)
    except MemoryError:
        return failed(task, "grading stopped: over the memory budget")
    except Exception as error:  # a bug of derive's: this task's line says so
        return failed(task, f"grading stopped: internal error ({type(error).__name__})")


def _run_lanes(lanes):
    """Read every lane's results as they come, each task within its time budget, until all are done."""
    while True:
        running = [lane for lane in lanes if not lane.done]
        if not running:
            return
        for lane in running:
            if lane.pid is None:
                lane.start()
        now = time.monotonic()
        wait = max(0.0, min(lane.deadline - now for lane in running))
        ready, _, _ = select.select([lane.fd for lane in running], [], [], wait)
        if ready:
            # a child sends a result every millisecond or so: waking for each one costs the parent more than
            # reading them a few at a time (a pipe holds some 60 results, and each deadline moves on by this much)
            time.sleep(GATHER_SECONDS)
        for lane in running:
            if lane.fd in ready:
                lane.receive()
            elif time.monotonic() >= lane.deadline:
                lane.over_time()


class _Lane:
    """The tasks of one line of children: tasks[i] for i in `indices`, graded in order, a new child
    taking over after a task that ends its child; `results` in the same order."""

    def __init__(self, indices, tasks, work, failed, budget):
        self.indices, self.tasks, self.work, self.failed, self.budget = indices, tasks, work, failed, budget
        self.results = []
        self.pid = self.fd = self.reader = None
        self.deadline = 0.0

    @property
    def done(self):
        return len(self.results) == len(self.indices)

    @property
    def task(self):
        return self.tasks[self.indices[len(self.results)]]

    def start(self):
        """A child for the tasks from the current one on."""
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(read_end)
            _child([self.tasks[i] for i in self.indices[len(self.results):]], self.work, write_end, self.budget)
        os.close(write_end)
        self.pid, self.fd, self.reader = pid, read_end, _Reader()
        self.deadline = time.monotonic() + self.budget.sheet_seconds

    def receive(self):
        """Read what the child sent: each whole message is its task's result; the end of the pipe before
        the last task, the current task's failure."""
        chunk = os.read(self.fd, 1 << 16)
        if not chunk:
            status = _reap(self.pid)
            self._close()
            self.pid = None
            self.results.append(self.failed(self.task, f"grading stopped: {status}"))
            return
        for kind, payload in self.reader.feed(chunk):
            self.results.append(payload if kind == "done" else self.failed(self.task, payload))
            self.deadline = time.monotonic() + self.budget.sheet_seconds
        if self.done:
            self.stop()

    def over_time(self):
        _kill(self.pid)
        self.stop()
        self.results.append(self.failed(self.task, f"grading stopped: over the time budget of "
                                                   f"{self.budget.sheet_seconds:g} s"))

    def stop(self):
        """End this lane's child, if it has one."""
        if self.pid is not None:
            if not self.done:
                _kill(self.pid)
            self._close()
            _reap(self.pid)
            self.pid = None

    def _close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def _child(tasks, work, write_end, budget):
    """Grade the tasks, sending each result; exit without running the parent's clean-up."""
    code = 0
    try:
        import faulthandler

        faulthandler.disable()  # a sheet that crashes its process is reported as its line, not a dump
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        # what the child starts with (the solved problem, the parent's modules) lives as long as it does:
        # frozen, the collector never walks it again (and never writes to the pages it shares with the parent)
        gc.enable()
        gc.freeze()
        # grading leaves little cyclic garbage (what a sheet makes is freed as its last reference goes): the
        # youngest generation is collected every 50,000 allocations rather than 700, a tenth of the collector's time
        gc.set_threshold(50_000, 10, 10)
        # made before the cap: when a task runs out of memory, its line must not need any more
        over_memory = ("failed", f"grading stopped: over the memory budget of {budget.memory_bytes // 2 ** 20} MB")
        _limit_memory(budget.memory_bytes)
        sent = _Sent()
        with os.fdopen(write_end, "wb") as out:
            for task in tasks:
                try:
                    message = ("done", work(task))
                except MemoryError:
                    message = over_memory  # what the task holds is freed as this clause ends
                except Exception as error:  # a bug of derive's: this task's line says so
                    message = ("failed", f"grading stopped: internal error ({type(error).__name__})")
                try:
                    data = sent.frame(message)
                except Exception as error:  # the pickler is new: it knows nothing the parent does not
                    data = sent.frame(("failed", f"grading stopped: internal error ({type(error).__name__})"))
                out.write(data)
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


class _Sent:
    """Pickles a child's messages with one pickler whose memo lasts from message to message: what was
    sent before (a Verdict a class's results repeat, an answer's text) goes again as a reference, which
    the parent's one unpickler (_Reader) resolves at C speed.

    A message that fails to pickle may leave entries in the memo that the parent never received: the
    pickler is then replaced, as it is after every MEMO_BYTES of output (so that the objects the memo
    holds stay bounded). The first message of a new pickler is flagged (_FRESH in its length prefix),
    and the parent starts a new unpickler for it, whose memo numbers match.
    """

    MEMO_BYTES = 64 * 1024 ** 2

    def __init__(self):
        self._renew()

    def _renew(self):
        self.buffer = io.BytesIO()
        self.pickler = pickle.Pickler(self.buffer, protocol=pickle.HIGHEST_PROTOCOL)
        self.written, self.fresh = 0, True

    def frame(self, message):
        """The bytes that send `message`: its length prefix, then its pickle."""
        try:
            self.pickler.dump(message)
        except BaseException:
            self._renew()
            raise
        data = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        header = _HEADER.pack(len(data) | (_FRESH if self.fresh else 0))
        self.fresh = False
        self.written += len(data)
        if self.written > self.MEMO_BYTES:
            self._renew()
        return header + data


class _Reader:
    """Length-prefixed pickled messages from a child, as its bytes arrive, read by one unpickler whose
    memo lasts as the child's pickler's does (_Sent)."""

    def __init__(self):
        self.buffer = bytearray()
        self.message = io.BytesIO()
        self.unpickler = None

    def read(self, size=-1):
        return self.message.read(size)

    def readinto(self, target):
        return self.message.readinto(target)

    def readline(self):
        return self.message.readline()

    def feed(self, chunk):
        """The messages `chunk` completes."""
        self.buffer += chunk
        messages, at = [], 0
        while len(self.buffer) - at >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self.buffer, at)
            fresh, size = size & _FRESH, size & ~_FRESH
            if len(self.buffer) - at - _HEADER.size < size:
                break
            if fresh or self.unpickler is None:  # reads the current message through read/readinto/readline
                self.unpickler = pickle.Unpickler(self)
            self.message = io.BytesIO(self.buffer[at + _HEADER.size:at + _HEADER.size + size])
            messages.append(self.unpickler.load())  # our child's
            at += _HEADER.size + size
        del self.buffer[:at]
        return messages


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
