"""Smoke tests of the benchmark's pieces (no timing): the ceiling app, the summary line, the ballot parser."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

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


def test_the_report_bounds_three_requests_by_the_measured_cheap_ones() -> None:
    run = load("run")
    runs = {"ceiling": 1200, "noop": 2400, "bare": 3000, "health": 900}
    stats = {name: harness.Stats(ok=ok, elapsed=1.0) for name, ok in runs.items()}
    result = run.LoadResult("SQLite", stats["ceiling"], 1200, stats["health"], noop=stats["noop"], bare_noop=stats["bare"])
    assert result.three_request_bound == pytest.approx(3000 / 3 / 1200)
    assert run._three_row(result) == "Flask no-ops 0.67 · /healthz 0.25"
    without_noops = run.LoadResult("SQLite", stats["ceiling"], 1200, stats["health"])
    assert without_noops.three_request_bound is None
    assert run._three_row(without_noops) == "/healthz 0.25"
