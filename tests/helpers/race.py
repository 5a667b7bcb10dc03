"""The thread-barrier race runner: N real threads released at once, each on its own connection.

Concurrency tests need ``@pytest.mark.django_db(transaction=True)`` so the threads see the rows
the test wrote and the database, not the test's transaction, decides who wins.
"""

import threading
from collections.abc import Callable

from django.db import connection


def run_together(count: int, work: Callable[[int], object]) -> list:
    """Run ``work(i)`` for i in 0..count-1 in ``count`` threads that start at one barrier.

    Returns the results in order. Any exception in a thread fails the caller with all of them,
    so a race test never passes because a thread died quietly.
    """
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as exc:  # noqa: BLE001 - reported below, never swallowed
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results
