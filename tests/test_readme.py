"""The README's commands and Python code work as written."""

from __future__ import annotations

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def test_quick_start_runs_verbatim_except_the_file_name(tmp_path, monkeypatch):
    import hyperspy.api as hs

    from hspy_unmix.synthetic import chequerboard_si

    s, _ = chequerboard_si(n_components=4, shape=(16, 16), random_state=0)
    s.save(tmp_path / "si.hspy")
    code = _blocks("python")[0]
    assert code.count('"si.dm4"') == 1
    monkeypatch.chdir(tmp_path)
    exec(compile(code.replace('"si.dm4"', '"si.hspy"'), "README.md", "exec"), {})
    back = hs.load(tmp_path / "si_vca.zspy")
    assert back.learning_results.decomposition_algorithm == "VCA"
    assert back.learning_results.factors.shape == (s.axes_manager.signal_size, 4)


def test_ci_runs_the_readme_test_command():
    commands = [line for block in _blocks("bash") for line in block.splitlines()
                if "pytest" in line]
    assert len(commands) == 1
    readme_command = commands[0].split("&& ", 2)[-1]  # after venv creation and activation
    assert readme_command == 'pip install -e ".[tests]" && python -m pytest -n 2'
    ci = (ROOT / ".ci" / "run").read_text()
    assert f"\n{readme_command} || exit $?\n" in ci


#: Runs the demo command in a fresh interpreter and reports the structure of the
#: figure it saves (rows, maps, colour bars, axis labels) as JSON.
DEMO_DRIVER = """
import json, sys
import hspy_unmix.cli.demo as demo

figures = []
build = demo.demo_figure

def keep(*args, **kwargs):
    figures.append(build(*args, **kwargs))
    return figures[-1]

demo.demo_figure = keep
from hspy_unmix.cli import main

code = main(sys.argv[2:])
(fig,) = figures
cells = {}
for ax in fig.axes:
    spec = ax.get_subplotspec()
    if spec is not None:  # colour bars have no cell of their own
        cells[spec.rowspan.start, spec.colspan.start] = ax
        n_rows, n_cols = spec.get_gridspec().get_geometry()
rows = []
for i in range(n_rows):
    maps = [cells[i, j] for j in range(n_cols - 1)]
    images = [im for ax in maps for im in ax.images]
    bars = {id(im.colorbar): im.colorbar for im in images if im.colorbar is not None}
    spectra = cells[i, n_cols - 1]
    rows.append({
        "name": maps[0].get_ylabel(),
        "clims": [list(map(float, im.get_clim())) for im in images],
        "colorbars": [bar.ax.get_ylabel() for bar in bars.values()],
        "spectra": len(spectra.lines),
        "xlabel": spectra.get_xlabel(),
    })
json.dump(rows, open(sys.argv[1], "w"))
sys.exit(code)
"""

#: What TensorFlow's C++ library writes at start-up (glog/absl line prefixes).
TF_CPP_LINE = re.compile(r"^[IWEF]\d{4} |absl::InitializeLog|oneDNN|cpu_feature_guard",
                         re.MULTILINE)


@pytest.mark.slow
@pytest.mark.neural
def test_demo_command(tmp_path):
    import json
    import os
    import subprocess
    import sys

    out = tmp_path / "demo"
    algorithms = ["VCA", "DAEU"]
    # as a user's shell has it: TF_CPP_MIN_LOG_LEVEL unset (conftest sets it here)
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    run = subprocess.run(
        [sys.executable, "-c", DEMO_DRIVER, str(tmp_path / "figure.json"),
         "demo", "--out", str(out), "--algorithms", *algorithms],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=1200)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    log = run.stdout + run.stderr
    assert not TF_CPP_LINE.findall(log), log[-3000:]
    assert "whiten" not in log.lower(), log[-3000:]
    assert "Warm-up (numba compilation, Keras import)" in run.stdout

    methods = ["HyperSpy NMF", "HyperSpy ICA", *algorithms]
    table = (out / "demo_results.md").read_text().splitlines()[2:]
    assert [line.split(" | ")[0].strip("| ") for line in table] == methods
    nmse = {line.split(" | ")[0].strip("| "): float(line.split(" | ")[2]) for line in table}
    # loadings of arbitrary scale gave ICA an NMSE in the thousands; scaled to sum
    # to one its maps beat the all-zero maps (NMSE 1)
    assert nmse["HyperSpy ICA"] < 1.0

    rows = json.loads((tmp_path / "figure.json").read_text())
    assert [row["name"] for row in rows] == ["ground truth", *methods]
    for row in rows:
        assert row["clims"] == [[0.0, 1.0]] * 3, row["name"]  # one map per phase
        assert row["colorbars"] == ["abundance"], row["name"]  # one colour bar per row
        assert row["spectra"] == 3 and row["xlabel"] == "Energy loss (eV)", row["name"]
    for name in ("demo_results.md", "demo_unmixing.png", "synthetic_si.hspy",
                 "demo_VCA.hspy"):
        assert (out / name).exists(), name
