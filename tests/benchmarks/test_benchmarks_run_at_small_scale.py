"""The benchmarks keep working: each runs at a small scale, as `make bench` would run it,
and reports every figure the README quotes. Nothing here asserts a time (DESIGN.md:
speed is measured by the benchmarks, never by tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(script: str, *args: str, out: Path) -> dict:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args, "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
    )
    assert done.returncode == 0, f"{script} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return json.loads(out.read_text())


def test_the_translation_benchmark_reports_full_and_incremental_figures(tmp_path):
    report = _run("translate.py", "--services", "30", "--repeat", "2", out=tmp_path / "t.json")
    assert report["mesh"]["nodes"] == 90
    for key in ("full_ms", "incremental_ms", "incremental_health_flip_ms"):
        assert report[key]["median"] > 0
    assert report["full_ms"]["first"] > 0
    assert set(report["full_stages_median_ms"]) == {"state", "translate", "serialize"}
    assert report["distinct_resources"] > 0
    assert report["machine"]["commit"]


def test_the_ads_load_benchmark_reports_convergence_and_envoy_start(tmp_path):
    report = _run(
        "ads_load.py", "--streams", "10", "--envoy-clusters", "20", out=tmp_path / "a.json"
    )
    assert [load["change"] for load in report["load"]] == ["policy", "service"]
    for load in report["load"]:
        assert load["streams"] == 10
        assert load["convergence_ms"]["p99"] >= load["convergence_ms"]["p50"] > 0
        assert load["first_push_ms"]["max"] >= load["first_push_ms"]["min"] > 0
        assert load["server_rss_mb_synced"] > 0
    for start in report["envoy"]:
        assert start["active"] >= 20
        assert start["start_to_active_ms"] >= start["start_to_applied_ms"] > 0


def test_the_ads_floor_benchmark_reports_the_same_figures_against_a_bare_server(tmp_path):
    report = _run("ads_floor.py", "--streams", "10", out=tmp_path / "f.json")
    assert report["server"].startswith("bare")
    assert [load["change"] for load in report["load"]] == ["policy", "service"]
    for load in report["load"]:
        assert load["streams"] == 10
        assert load["convergence_ms"]["p99"] >= load["convergence_ms"]["p50"] > 0


def test_the_health_benchmark_reports_skew_lag_and_publication(tmp_path):
    report = _run(
        "health.py",
        *("--registrations", "20", "--upstreams", "2", "--duration", "8"),
        *("--flip-after", "3", "--expiring", "2", "--watched", "5"),
        out=tmp_path / "h.json",
    )
    assert report["registrations"] == 20
    assert report["checks"] > 0
    for key in ("schedule_skew_ms", "event_loop_lag_ms", "xds_push_after_status_change_ms"):
        assert key in report
    assert report["watched_nodes"] == 5
