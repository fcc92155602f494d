"""Work that runs beside the tests, on the machine's second core.

The suite's in-process work (synthesizing stacks, handlers, moto) keeps one core busy: Python and
the jsii Node process take turns. Its subprocess work (the example apps, the reference app as
`cdk synth` runs it, mypy, ruff, the wheel and the newest-aws-cdk-lib smoke test) needs no
jsii runtime of this process, so tests/conftest.py queues it when the session starts and one
worker thread runs it, one subprocess at a time, while the main thread runs the other tests.

Tests that read a background result run after all others (tests/conftest.py orders them), so
they mostly find it done. A job not started yet when its result is asked for is taken back and
run by the asking thread; while the worker runs the job asked for, the asking thread runs other
queued jobs, from the back of the queue. So the two cores stay busy to the end. The session ends with
a table of where and when each job ran (:meth:`Background.report`).

Only subprocess work belongs here: jsii objects of this process must stay on the main thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar, cast

T = TypeVar("T")


class Background:
    """Named jobs, each run once: queued with :meth:`submit`, read with :meth:`result`."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="refarch-background")
        self._futures: dict[str, Future[Any]] = {}
        #: The work of each job queued, in the order queued (a thread that waits takes from its end).
        self._queued: dict[str, Callable[[], Any]] = {}
        self._lock = threading.Lock()
        #: Job name -> (thread that ran it, seconds from the session's start to its start, its duration).
        self.timings: dict[str, tuple[str, float, float]] = {}
        self._started = time.monotonic()

    def submit(self, key: str, work: Callable[[], Any]) -> None:
        """Queue ``work`` under ``key`` unless a job of that name exists."""
        with self._lock:
            if key not in self._futures:
                self._futures[key] = self._pool.submit(self._timed, key, work)
                self._queued[key] = work

    def result(self, key: str, work: Callable[[], T]) -> T:
        """The result of job ``key`` (its exception is raised here); runs ``work`` in this thread
        when the job was never queued or has not started yet. While the worker runs it, this thread
        runs the jobs still queued, the last queued first (the worker takes them from the front), so
        neither core waits while work is left."""
        while True:
            with self._lock:
                future = self._futures.get(key)
                if future is None or future.cancel():  # never queued, or not started: run it here
                    mine = self._claim(key)
                    break
                if future.done():
                    return cast(T, future.result())
                taken = self._take_last_queued()
            if taken is None:
                return cast(T, future.result())  # nothing left to take: wait for the worker
            self._run(*taken)
        self._run(key, work, mine)
        return cast(T, mine.result())

    def _take_last_queued(self) -> tuple[str, Callable[[], Any], Future[Any]] | None:
        """The last queued job the worker has not started, claimed for the calling thread (lock held)."""
        for other in reversed(list(self._queued)):
            if self._futures[other].cancel():
                work = self._queued[other]
                return other, work, self._claim(other)
            if self._futures[other].running() or self._futures[other].done():
                del self._queued[other]  # the worker has it
        return None

    def _claim(self, key: str) -> Future[Any]:
        """A running future for job ``key``, run by the calling thread (the lock is held): no other
        thread can cancel it and run the job again."""
        future: Future[Any] = Future()
        future.set_running_or_notify_cancel()
        self._futures[key] = future
        self._queued.pop(key, None)
        return future

    def _run(self, key: str, work: Callable[[], Any], future: Future[Any]) -> None:
        try:
            future.set_result(self._timed(key, work))
        except BaseException as error:  # handed to the caller by .result(), as the worker would
            future.set_exception(error)

    def _timed(self, key: str, work: Callable[[], T]) -> T:
        start = time.monotonic()
        try:
            return work()
        finally:
            end = time.monotonic()
            self.timings[key] = (threading.current_thread().name, start - self._started, end - start)

    def report(self) -> list[str]:
        """One line per job run, in the order they started: where, when and how long (the suite's wall
        time is bounded by the main thread's tests and by this worker's queue: this shows the queue)."""
        lines = []
        for key, (thread, start, seconds) in sorted(self.timings.items(), key=lambda item: item[1][1]):
            where = "worker" if thread.startswith("refarch-background") else "main thread"
            lines.append(f"{seconds:7.1f} s  from {start:6.1f} s  {where:<11}  {key}")
        return lines

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


#: The session's one background worker (tests/conftest.py queues its jobs, the ``background``
#: fixture hands it to tests); a job may wait for another job's result through it.
BACKGROUND = Background()
