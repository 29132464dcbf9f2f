"""Wall time of a whole process, shared by the benchmarks."""

import statistics
import subprocess
import time


def median_wall_time(command, runs):
    """Median wall time of `command` over `runs` runs, after one warm-up run whose failure stops the bench."""
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)
