"""Work that runs beside the tests, on the machine's second core.

The suite's in-process work (synthesizing stacks, handlers, moto) keeps one core busy: Python and
the jsii Node process take turns. Its subprocess work (the example apps, the reference app as
`cdk synth` runs it, mypy, ruff, the wheel and the newest-aws-cdk-lib smoke test) needs no
jsii runtime of this process, so tests/conftest.py queues it when the session starts and one
worker thread runs it, one subprocess at a time, while the main thread runs the other tests.

Tests that read a background result run after all others (tests/conftest.py orders them), so
they mostly find it done. A job not started yet when its result is asked for is taken back and
run by the asking thread, so the two cores stay busy to the end.

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
        self._lock = threading.Lock()
        #: Job name -> (thread that ran it, seconds from the session's start to its start, its duration).
        self.timings: dict[str, tuple[str, float, float]] = {}
        self._started = time.monotonic()

    def submit(self, key: str, work: Callable[[], Any]) -> None:
        """Queue ``work`` under ``key`` unless a job of that name exists."""
        with self._lock:
            if key not in self._futures:
                self._futures[key] = self._pool.submit(self._timed, key, work)

    def result(self, key: str, work: Callable[[], T]) -> T:
        """The result of job ``key`` (its exception is raised here); runs ``work`` in this thread
        when the job was never queued or has not started yet."""
        with self._lock:
            future = self._futures.get(key)
            run_here = future is None or future.cancel()
            if run_here:
                future = Future()
                self._futures[key] = future
        assert future is not None
        if run_here:
            try:
                future.set_result(self._timed(key, work))
            except BaseException as error:  # handed to the caller by .result() below, as the worker would
                future.set_exception(error)
        return cast(T, future.result())

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
