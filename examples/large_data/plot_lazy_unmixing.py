"""
Unmixing a spectrum image that does not fit in memory
=====================================================

The code is the same for a lazy signal: ``decomposition`` reads the data in
two passes, a uniform sample of pixels on which the estimator is fitted,
then the abundances chunk by chunk, so memory stays bounded whatever the
size of the file. Here a small chequerboard SI stands in for a large one: it
is written to a ``.zspy`` store (zarr, the format dask workers can reopen),
opened lazily in navigation chunks of about 1 MiB with
:func:`hspy_unmix.io.load_lazy`, and unmixed with VCA; the result is
compared with the same decomposition of the data in memory.
"""

import pathlib
import tempfile

import matplotlib.pyplot as plt
import numpy as np

import hspy_unmix  # noqa: F401  (adds the algorithms to EELS signals)
from hspy_unmix.io import load_lazy
from hspy_unmix.synthetic import chequerboard_si

s, truth = chequerboard_si(n_components=3, random_state=0)  # 64 x 64 x 200
folder = pathlib.Path(tempfile.mkdtemp())
s.save(folder / "si.zspy")

lazy = load_lazy(folder / "si.zspy", target_mb=1)
print(lazy)
print("chunks of the data (rows, columns, channels):", lazy.data.chunksize)

lazy.decomposition(algorithm="VCA", output_dimension=3, random_state=0,
                   print_info=False)
s.decomposition(algorithm="VCA", output_dimension=3, random_state=0, print_info=False)
lazy_maps = np.asarray(lazy.learning_results.loadings).reshape(64, 64, 3)
eager_maps = np.asarray(s.learning_results.loadings).reshape(64, 64, 3)
print(f"largest difference between the lazy and in-memory abundances: "
      f"{np.abs(lazy_maps - eager_maps).max():.2g}")

# %%
# The figure shows the three abundance maps of the lazy decomposition, on one
# 0-1 colour scale, with the boundaries of the navigation chunks the data
# were read in (white lines): each chunk holds whole rows of the scan and
# every channel of their spectra.
nav = s.axes_manager.navigation_axes
scale = nav[0].scale
extent = [0, 64 * scale, 64 * scale, 0]
rows_per_chunk = lazy.data.chunks[0]
boundaries = np.cumsum(rows_per_chunk)[:-1] * scale

fig, axes = plt.subplots(1, 3, figsize=(10, 3.8), layout="constrained")
for k, ax in enumerate(axes):
    image = ax.imshow(lazy_maps[..., k], vmin=0, vmax=1, extent=extent)
    for y in boundaries:
        ax.axhline(y, color="white", lw=0.8)
    ax.set_title(f"component {k}")
    ax.set_xlabel(f"x ({nav[0].units})")
axes[0].set_ylabel(f"y ({nav[1].units})")
fig.colorbar(image, ax=axes, shrink=0.85, label="abundance")
plt.show()
