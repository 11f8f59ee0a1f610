"""The Getting-started page runs as written (only the user's file name replaced)."""

import pathlib
import re

import numpy as np

PAGE = pathlib.Path(__file__).resolve().parents[2] / "docs" / "getting_started.md"


def _blocks():
    return re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.S)


def test_getting_started_runs(tmp_path, monkeypatch, capsys):
    from hspy_unmix.synthetic import chequerboard_si

    blocks = _blocks()
    assert len(blocks) == 4
    monkeypatch.chdir(tmp_path)
    si, _ = chequerboard_si(n_components=3, random_state=1)
    si.save("my_si.hspy")
    namespace = {}
    for code in blocks:
        exec(compile(code.replace("my_si.dm4", "my_si.hspy"), str(PAGE), "exec"), namespace)
    out = capsys.readouterr().out
    sad = float(re.search(r"SAD ([0-9.]+) rad", out).group(1))
    assert sad < 0.05  # the chequerboard's endmembers are found
    assert (tmp_path / "first_unmixing.png").stat().st_size > 10_000
    assert (tmp_path / "my_si_vca.zspy").exists()
    assert np.isfinite(namespace["rl"].data).all()
    assert "ZLP 9." in out  # exspy's low-loss SI: ZLP about 9.4 channels wide
