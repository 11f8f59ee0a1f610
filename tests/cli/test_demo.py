"""``hspy-unmix demo``: names checked first, warm-up outside the timings, the
baselines scaled as the package's abundances, a figure row for every method."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

def test_demo_refuses_an_unknown_algorithm_before_running(tmp_path, capsys):
    from hspy_unmix.cli import main

    assert main(["demo", "--out", str(tmp_path / "d"), "--algorithms", "VCA", "BOGUS"]) == 2
    assert "BOGUS" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()


def test_demo_figure_has_a_row_for_every_default_algorithm_and_baseline():
    from hspy_unmix.cli.demo import BASELINES, DEMO_DEFAULT, demo_figure
    from hspy_unmix.synthetic import chequerboard_si

    _, truth = chequerboard_si(n_components=3, shape=(16, 16), random_state=0)
    exact = (truth.endmembers.T, truth.flat_abundances)
    extra = (np.hstack([exact[0], exact[0][:, :1]]), np.hstack([exact[1], exact[1][:, :1]]))
    results = {name: exact for name in (*BASELINES, *DEMO_DEFAULT)}
    results["ARD_SO_NMF"] = extra  # kept one component too many
    results["MALS"] = "failed: ValueError"
    fig = demo_figure(truth, results)
    labels = [ax.get_ylabel() for ax in fig.axes
              if ax.get_subplotspec() is not None and ax.get_subplotspec().colspan.start == 0]
    assert labels == ["ground truth", *results]
    bars = [ax for ax in fig.axes if ax.get_subplotspec() is None]
    assert len(bars) == len(results)  # every row but the failed one, plus the truth's
    assert sum(len(ax.images) for ax in fig.axes) == 3 * len(results)


def test_baseline_loadings_get_the_sum_to_one_scaling():
    from hspy_unmix.cli.demo import _baseline_scaled
    from hspy_unmix.synthetic import chequerboard_si

    _, truth = chequerboard_si(n_components=3, shape=(16, 16), random_state=0)
    A, E = truth.flat_abundances, truth.endmembers  # A sums to one in every pixel
    c = np.array([250.0, -0.02, 3.0])  # ICA-like: arbitrary scales and a sign
    factors, loadings = _baseline_scaled((E / c[:, None]).T, A * c)
    # the scales solve a least-squares problem in A (zero residual): their
    # relative error is bounded by cond(A) times the rounding of the inputs
    tol = 8 * np.linalg.cond(A) * np.finfo(float).eps
    np.testing.assert_allclose(loadings, A, rtol=0, atol=tol)
    np.testing.assert_allclose(factors.T, E, rtol=tol)


#: In a fresh interpreter: the numba kernels compiled (or loaded from the
#: cache) by the demo's warm-up, then those the timed runs add.
WARM_UP_PROBE = """
import sys
import numba
from hspy_unmix.cli.demo import DEMO_DEFAULT, _algorithm_params, _is_neural, warm_up
from hspy_unmix.synthetic import chequerboard_si

def compiled():
    found = set()
    for name, module in list(sys.modules.items()):
        if not name.startswith("hspy_unmix") or module is None:
            continue
        for attr, value in vars(module).items():
            if isinstance(value, numba.core.registry.CPUDispatcher):
                found |= {(value.py_func.__qualname__, str(sig)) for sig in value.signatures}
    return found

names = [n for n in DEMO_DEFAULT if not _is_neural(n)]
warm_up(names)
before = compiled()
s, _ = chequerboard_si(n_components=3, shape=(16, 16), random_state=1)
for name in names:
    params, k = _algorithm_params(name, 3)
    s.deepcopy().decomposition(algorithm=name, output_dimension=k, print_info=False,
                               random_state=0, show_progressbar=False, **params)
print(len(before), sorted(compiled() - before))
"""


def test_warm_up_compiles_every_kernel_the_timed_runs_use():
    out = subprocess.run([sys.executable, "-c", WARM_UP_PROBE], capture_output=True,
                         text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    n_before, added = out.stdout.split(" ", 1)
    assert int(n_before) > 0
    assert added.strip() == "[]", added
