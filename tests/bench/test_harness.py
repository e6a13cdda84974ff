"""Smoke tests of the benchmark's pieces (no timing): the ceiling app, the summary line, the ballot parser."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def load(name: str) -> ModuleType:
    """Import a module of bench/ (not a package) under a private name."""
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCH / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


harness = load("harness")
ceiling_app = load("ceiling_app")


def test_ceiling_app_commits_one_row_per_request(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = str(tmp_path / "ceiling.sqlite")
    monkeypatch.setenv("BENCH_CEILING_DB", target)
    ceiling_app.create_table(target)
    client = ceiling_app.app.test_client()
    try:
        assert client.post("/insert/a").status_code == 200
        assert client.post("/insert/b").status_code == 200
        assert client.get("/insert/c").status_code == 405
    finally:
        ceiling_app._connection.close()
        monkeypatch.setattr(ceiling_app, "_connection", None)

    assert ceiling_app.count_rows(target) == 2
    connection = ceiling_app.connect(target)
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert connection.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    connection.close()


def test_ceiling_app_answers_both_no_ops_without_writing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = str(tmp_path / "ceiling.sqlite")
    monkeypatch.setenv("BENCH_CEILING_DB", target)
    ceiling_app.create_table(target)
    client = ceiling_app.app.test_client()

    for path in ("/noop", "/bare-noop"):
        response = client.get(path)
        assert (response.status_code, response.data) == (200, b"ok\n")
    assert client.get("/no-such-path").status_code == 404  # Flask still routes everything else

    assert ceiling_app.count_rows(target) == 0


def test_summary_line_keeps_order_rounds_floats_and_marks_missing() -> None:
    line = harness.format_summary({"vote_per_s": 123.456, "vote_ratio": 0.81234, "lost": 0,
                                   "alloc_100k_s": None, "mes_agree": "50/50"})

    assert line == "BENCH vote_per_s=123.5 vote_ratio=0.812 lost=0 alloc_100k_s=n/a mes_agree=50/50"


def test_percentile_is_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]

    assert harness.percentile(values, 50) == 50.0
    assert harness.percentile(values, 99) == 99.0
    assert harness.percentile([], 99) == 0.0


def test_gunicorn_settings_start_from_the_production_config() -> None:
    args = harness.ServerSettings(workers=4).args()

    assert args[:2] == ["--config", str(BENCH.parent / "gunicorn.conf.py")]
    assert args[args.index("--workers") + 1] == "4"


def test_allocation_timing_repeats_short_runs_and_keeps_the_first_result() -> None:
    bench_allocation = load("bench_allocation")
    calls: list[int] = []

    def fast() -> int:
        calls.append(1)
        return len(calls)

    result, seconds = bench_allocation.timed(fast, min_total=60, max_repeat=25)
    assert (result, len(calls)) == (1, 25)  # repeated up to max_repeat; the first run's result
    assert 0 <= seconds < 60

    calls.clear()
    result, _ = bench_allocation.timed(fast, min_total=0)
    assert (result, len(calls)) == (1, 1)  # a run that already fills the total happens once


def test_the_bench_line_has_both_p99s_and_no_ceiling_ratio() -> None:
    run = load("run")
    check = SimpleNamespace(lost=0, double=1)

    def result(backend: str, latencies: list[float]) -> object:
        vote = harness.Stats(ok=len(latencies), elapsed=1.0)
        vote.latencies.extend(latencies)
        return run.LoadResult(backend, harness.Stats(ok=900, elapsed=1.0), 900, harness.Stats(ok=500, elapsed=1.0),
                              vote=vote, check=check)

    sqlite, pg = result("SQLite", [0.1] * 100), result("PostgreSQL", [0.3] * 100)
    figures = run._summary(sqlite, pg, {})
    assert not {"vote_ratio", "ceiling_per_s"} & figures.keys()
    assert list(figures)[:4] == ["vote_per_s", "health_per_s", "vote_p99_ms", "pg_vote_p99_ms"]
    assert figures["vote_p99_ms"] == pytest.approx(100) and figures["pg_vote_p99_ms"] == pytest.approx(300)
    assert (figures["lost"], figures["double"]) == (0, 2)  # both databases added up
    assert run._summary(sqlite, None, {})["pg_vote_p99_ms"] is None
