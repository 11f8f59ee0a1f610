"""The bookkeeping of the scaling benchmark (benchmarks/scale/run_scale.py).

Only the pure parts run here (result merging, run plan, reproduce command,
report): the benchmark itself writes gigabytes and takes an hour.
"""

from __future__ import annotations

import importlib.util
import pathlib

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "scale" / "run_scale.py"


@pytest.fixture(scope="module")
def run_scale():
    if not SCRIPT.exists():
        pytest.skip("benchmarks/ not available")
    spec = importlib.util.spec_from_file_location("run_scale", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _row(case, size, wall, kind="coreloss", rss=500.0):
    nav = {1: (256, 512), 2: (512, 512), 0.25: (64, 512)}[size]
    return {"case": case, "size": size, "gib": float(size), "wall_s": wall,
            "mb_per_s": size * 1024 / wall, "peak_rss_mb": rss, "kind": kind,
            "shape": [*nav, 2048], "loadavg": [1.0, 2.0]}


def test_merge_replaces_same_case_and_size(run_scale):
    old = [_row("read", 1, 10.0), _row("vca_apply", 1, 20.0), _row("read", 2, 30.0)]
    merged = run_scale.merge_results(old, [_row("read", 1, 5.0), _row("read", 1.0, 4.0)])
    assert len(merged) == 3
    reads_1 = [r for r in merged if r["case"] == "read" and r["size"] == 1]
    assert [r["wall_s"] for r in reads_1] == [4.0]
    # duplicates already in a results file collapse too, the last one kept
    assert len(run_scale.merge_results([], old + old[:1])) == 3


def test_planned_runs_largest_first_and_lowloss_shared(run_scale):
    runs = run_scale.planned_runs([1, 8], run_scale.CASES, [1, 0.25], [0.25])
    assert [r[0] for r in runs] == [8, 1, 1, 0.25]
    low = {g: cases for g, kind, cases in runs if kind == "lowloss"}
    assert low[0.25] == ["read_lowloss", "restore_zlp", "restore_zlp_rl"]
    assert low[1] == ["read_lowloss", "restore_zlp"]
    assert run_scale.planned_runs([], run_scale.CASES, [], []) == []


def test_reproduce_command_covers_every_row(run_scale):
    rows = [_row(c, g, 1.0) for c in run_scale.CASES for g in (1, 2)]
    rows += [_row("read_lowloss", 1, 1.0, "lowloss"), _row("restore_zlp", 1, 9.0, "lowloss"),
             _row("read_lowloss", 0.25, 1.0, "lowloss"),
             _row("restore_zlp_rl", 0.25, 9.0, "lowloss")]
    cmd = run_scale.reproduce_command(rows)
    assert cmd == ("python benchmarks/scale/run_scale.py --gib 1 2 --zlp-gib 1 "
                   "--zlp-rl-gib 0.25")
    # a subset of core-loss cases is named; absent low-loss sizes stay explicit
    cmd = run_scale.reproduce_command([_row("read", 1, 1.0), _row("vca_apply", 2, 1.0)])
    assert cmd == ("python benchmarks/scale/run_scale.py --gib 1 2 --cases read vca_apply "
                   "--zlp-gib --zlp-rl-gib")


def test_report_only_parses_the_written_command(run_scale, tmp_path):
    import json

    rows = [_row("read", 1, 10.0), _row("vca_apply", 1, 20.0),
            _row("read_lowloss", 0.25, 1.0, "lowloss"),
            _row("restore_zlp_rl", 0.25, 9.0, "lowloss")]
    results = tmp_path / "results.json"
    results.write_text(json.dumps(rows + rows[:1]))
    cmd = run_scale.reproduce_command(rows)
    md = tmp_path / "scale.md"
    run_scale.main(cmd.split()[2:] + ["--report-only", "--results", str(results),
                                      "--workdir", str(tmp_path / "work"),
                                      "--report-md", str(md),
                                      "--report-png", str(tmp_path / "c.png")])
    text = md.read_text()
    assert f"`{cmd}`" in text
    assert text.count("| read | 1.00 |") == 1
    assert "restore_zlp_rl (Richardson-Lucy, 50 it.) | 0.25 |" in text


def test_report_ratios_use_the_read_of_the_same_kind_and_size(run_scale, tmp_path):
    rows = [_row("read", 1, 10.0), _row("vca_apply", 1, 25.0, rss=3000.0),
            _row("read", 2, 40.0), _row("vca_apply", 2, 20.0),
            _row("read_lowloss", 1, 4.0, "lowloss"), _row("restore_zlp", 1, 100.0, "lowloss"),
            {"case": "pan_sharpen", "size": 2, "error": "boom"}]
    md, png = tmp_path / "scale.md", tmp_path / "curves.png"
    table = run_scale.write_report(rows, md, png)
    lines = {ln.split("|")[1].strip() + "@" + ln.split("|")[2].strip(): ln.split("|")
             for ln in table.splitlines()[2:]}
    assert lines["vca_apply@1.00"][6].strip() == "2.50"
    assert lines["vca_apply@2.00"][6].strip() == "0.50"
    # low-loss cases are divided by read_lowloss (4 s), not by the core-loss read
    assert lines["restore_zlp (U-net)@1.00"][6].strip() == "25.00"
    assert "failed: boom" in table
    text = md.read_text()
    assert "--gib 1 2 --cases read vca_apply pan_sharpen --zlp-gib 1 --zlp-rl-gib" in text
    # targets are judged at the largest core-loss size (2 GiB: both met there)
    assert ("Target peak RSS < 0.6 GB = 572 MiB (1.5 GB = 1431 MiB with the U-net) at 2 GiB: "
            "met") in text
    assert "`vca_apply` <= 1.5x the read time at 2 GiB: met (0.50x)" in text
    assert "`vca_decomposition` <= 2x the read time at 2 GiB: not measured" in text
    # ... but a case over the RSS target at a smaller size is still reported
    assert "any size: `vca_apply` at 1 GiB (3000 MiB)." in text
    assert "Failed: `pan_sharpen` at 2 GiB: boom" in text
    assert png.stat().st_size > 0
    # at 1 GiB alone the RSS target fails and the ratio is outside 3x
    run_scale.write_report([_row("read", 1, 10.0), _row("vca_apply", 1, 35.0, rss=3000.0)],
                           md, png)
    text = md.read_text()
    assert "at 1 GiB: **not met** (vca_apply at or above its target)" in text
    assert "`vca_apply` <= 1.5x the read time at 1 GiB: **not met** (3.50x)" in text
    assert "`hals_decomposition` at 1 GiB" in text  # listed as not run


def test_report_distributed_row_counts_its_workers(run_scale, tmp_path):
    dist = dict(_row("vca_decomposition_distributed", 1, 10.0, rss=300.0),
                worker_peak_rss_mb=700.0)
    rows = [_row("read", 1, 10.0), _row("vca_decomposition", 1, 25.0), dist]
    md, png = tmp_path / "scale.md", tmp_path / "curves.png"
    run_scale.write_report(rows, md, png)
    text = md.read_text()
    # a worker over 0.6 GB fails the RSS target although the client stays under it
    assert "(vca_decomposition_distributed at or above its target)" in text
    assert "speed-up 2.50x over the threaded run; largest worker peak RSS 700 MiB" in text
    # the U-net cases have their own, larger target
    run_scale.write_report([_row("read", 1, 10.0), _row("daeu_apply", 1, 20.0, rss=1200.0)],
                           md, png)
    assert "at 1 GiB: met" in md.read_text()


def test_report_shows_the_warmup_or_that_the_wall_holds_it(run_scale, tmp_path):
    warm = dict(_row("vca_decomposition", 1, 6.0), warmup_s=2.5)
    rows = [_row("read", 1, 2.0), warm, _row("vca_apply", 1, 3.0)]
    table = run_scale.write_report(rows, tmp_path / "s.md", tmp_path / "s.png")
    lines = {ln.split(" | ")[0].strip("| "): ln for ln in table.splitlines()[2:]}
    assert lines["vca_decomposition"].endswith("| 3.00 | 500 | 1.0 -> 2.0 | 2.5 |")
    assert lines["vca_apply"].endswith("| in wall |")
    assert lines["read"].endswith("| none |")


def test_report_gives_pan_sharpen_against_the_copy_of_the_same_size(run_scale, tmp_path):
    rows = [_row("read", 1, 2.0), _row("copy", 1, 5.0), _row("pan_sharpen", 1, 8.0),
            _row("read", 2, 4.0), _row("pan_sharpen", 2, 12.0)]
    run_scale.write_report(rows, tmp_path / "s.md", tmp_path / "s.png")
    text = (tmp_path / "s.md").read_text()
    # 8 s over the 5 s copy of the same size; the copy itself is 2.5x its read
    assert "`pan_sharpen` at 1 GiB: 1.60x the time of `copy` (one read and one write of the SI: 2.50x one read)." in text
    # no copy at 2 GiB: no such line
    assert "`pan_sharpen` at 2 GiB: " not in text
