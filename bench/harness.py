"""Pieces of the benchmark: gunicorn servers, concurrent HTTP clients, latency figures, the summary line.

No dependency beyond the standard library (and gunicorn, which the prod extra installs): clients
are threads with one ``http.client`` connection each, kept alive as long as the server allows
(gunicorn's sync workers close after every response; the client reconnects by itself).
"""

from __future__ import annotations

import http.client
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
GUNICORN = Path(sys.executable).with_name("gunicorn")


@dataclass(frozen=True)
class ServerSettings:
    """How gunicorn runs: the same for the product and the ceiling app, so they compare.

    Both start from the production ``gunicorn.conf.py`` (sync workers, access log, worker
    recycling); the number of workers and threads and the timeout are set here.
    """

    workers: int = 4
    worker_class: str = "sync"
    threads: int = 1
    timeout: int = 60

    def args(self) -> list[str]:
        """gunicorn's options: the production config file, then these settings over it."""
        return ["--config", str(ROOT / "gunicorn.conf.py"), "--workers", str(self.workers), "--worker-class", self.worker_class,
                "--threads", str(self.threads), "--timeout", str(self.timeout),
                "--backlog", "2048", "--log-level", "warning"]

    def describe(self) -> str:
        """One line for the report."""
        threads = f" × {self.threads} threads" if self.threads > 1 else ""
        return f"gunicorn {self.workers} {self.worker_class} workers{threads}"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running gunicorn: where it listens and its log."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def origin(self) -> str:
        """The Origin header a browser on this server's pages would send."""
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        """The end of the server's log (for error messages)."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@contextmanager
def gunicorn(app: str, *, settings: ServerSettings, env: Mapping[str, str], chdir: Path = ROOT,
             ready_path: str = "/", log_dir: Path | None = None) -> Iterator[Server]:
    """Run ``gunicorn app`` on a free port until the block ends; waits until it answers."""
    port = free_port()
    log = Path(log_dir or tempfile.gettempdir()) / f"gunicorn-{port}.log"
    command = [str(GUNICORN), *settings.args(), "--bind", f"127.0.0.1:{port}", "--chdir", str(chdir), app]
    with log.open("wb") as log_file:
        process = subprocess.Popen(command, env={**os.environ, **env}, stdout=log_file,
                                   stderr=subprocess.STDOUT)
    server = Server(port, process, log)
    try:
        _wait_until_ready(server, ready_path)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)  # the master stops its workers gracefully
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_ready(server: Server, path: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.process.returncode}:\n{server.log_tail()}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=2)
            connection.request("GET", path)
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer on port {server.port} within {timeout}s:\n{server.log_tail()}")


@dataclass
class Stats:
    """What a load run measured: successes, failures by kind, latencies (seconds) and wall time."""

    ok: int = 0
    failed: Counter[str] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    machine_cpu: float | None = None  # share of all cores busy during the run (Linux), 0..1
    driver_cpu: float | None = None  # share of all cores used by this load-generating process, 0..1

    @property
    def rate(self) -> float:
        """Successful operations per second."""
        return self.ok / self.elapsed if self.elapsed > 0 else 0.0

    def percentile_ms(self, p: float) -> float:
        """The p-th percentile of the latencies in milliseconds (nearest rank)."""
        return percentile(self.latencies, p) * 1000

    def merge(self, other: Stats) -> None:
        """Add another thread's counts into this one."""
        self.ok += other.ok
        self.failed.update(other.failed)
        self.latencies.extend(other.latencies)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]


def machine_cpu_jiffies() -> tuple[int, int] | None:
    """(busy, total) CPU time of the whole machine from /proc/stat; None where there is none."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def cpu_note(stats: Stats) -> str:
    """"CPU 97 % busy (bench driver 21 %)" for a report row, or "" if unknown."""
    if stats.machine_cpu is None:
        return ""
    return f"; CPU {stats.machine_cpu:.0%} busy, of which the load driver {stats.driver_cpu or 0:.0%}"


def run_clients(count: int, work: Callable[[int, Stats], None]) -> Stats:
    """Run ``work(index, stats)`` in ``count`` threads started together; their merged stats and wall time."""
    per_thread = [Stats() for _ in range(count)]
    barrier = threading.Barrier(count + 1)

    def body(index: int) -> None:
        barrier.wait()
        try:
            work(index, per_thread[index])
        except Exception as error:  # a crashed client is a failure to report, not to hide
            per_thread[index].failed[f"client crashed: {type(error).__name__}: {error}"] += 1

    threads = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started, cpu_before, own_before = time.perf_counter(), machine_cpu_jiffies(), time.process_time()
    for thread in threads:
        thread.join()
    total = Stats(elapsed=time.perf_counter() - started)
    cores = os.cpu_count() or 1
    total.driver_cpu = (time.process_time() - own_before) / total.elapsed / cores
    cpu_after = machine_cpu_jiffies()
    if cpu_before and cpu_after and cpu_after[1] > cpu_before[1]:
        total.machine_cpu = (cpu_after[0] - cpu_before[0]) / (cpu_after[1] - cpu_before[1])
    for stats in per_thread:
        total.merge(stats)
    return total


def hammer(port: int, method: str, path: Callable[[int, int], str], *, clients: int, seconds: float,
           expect: int = 200, headers: Mapping[str, str] | None = None) -> Stats:
    """``clients`` connections sending ``method path(client, n)`` as fast as answered, for ``seconds``."""
    deadline = time.perf_counter() + seconds

    def work(index: int, stats: Stats) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        n = 0
        while time.perf_counter() < deadline:
            n += 1
            started = time.perf_counter()
            try:
                connection.request(method, path(index, n), headers=dict(headers or {}))
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as error:
                stats.failed[type(error).__name__] += 1
                connection.close()
                continue
            stats.latencies.append(time.perf_counter() - started)
            if response.status == expect:
                stats.ok += 1
            else:
                stats.failed[f"HTTP {response.status}"] += 1
        connection.close()

    result = run_clients(clients, work)
    return result


def format_summary(figures: Mapping[str, object]) -> str:
    """The machine-readable last line: ``BENCH key=value …`` in the given order, floats rounded."""
    parts = []
    for key, value in figures.items():
        if isinstance(value, float):
            text = f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"
        elif value is None:
            text = "n/a"
        else:
            text = str(value)
        parts.append(f"{key}={text}")
    return "BENCH " + " ".join(parts)


def table(title: str, rows: list[tuple[str, object]]) -> str:
    """A small human-readable table: a title and aligned label/value rows."""
    width = max((len(label) for label, _ in rows), default=0)
    lines = [f"== {title}"]
    lines += [f"  {label:<{width}}  {value}" for label, value in rows]
    return "\n".join(lines)
