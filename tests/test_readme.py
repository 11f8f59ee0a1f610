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


@pytest.mark.slow
def test_demo_command(tmp_path, capsys):
    from hspy_unmix.cli import main

    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--algorithms", "VCA", "HALS"]) == 0
    text = capsys.readouterr().out
    for name in ("HyperSpy NMF", "HyperSpy ICA", "VCA", "HALS"):
        assert name in text
    table = (out / "demo_results.md").read_text()
    assert table.count("\n") == 2 + 4  # header, rule and one row per method
    for name in ("demo_results.md", "demo_unmixing.png", "synthetic_si.hspy",
                 "demo_VCA.hspy"):
        assert (out / name).exists(), name
