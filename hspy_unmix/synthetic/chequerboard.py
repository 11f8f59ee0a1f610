"""Synthetic STEM-EELS spectrum images with known ground truth.

The protocol of Brun et al.: a 64 x 64 map divided into 8 x 8
blocks, each block assigned at random to one endmember, degraded by a k x k
averaging filter (k = 9) so that pixels near block edges are mixed while the
abundances still sum to one, combined with the endmembers by the linear
mixing model, then Poisson noise.

The endmembers are realistic core-loss spectra: a power-law background
``A E^-r`` plus ionisation edges computed offline with exspy's hydrogenic
generalised oscillator strengths (K and L shells), white lines on the
transition-metal L2,3 edges and delayed M4,5 edges drawn as broadened steps,
all blurred by the energy resolution.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage
from sklearn.utils import check_random_state

__all__ = [
    "GroundTruth",
    "ENDMEMBER_SETS",
    "eels_endmembers",
    "chequerboard_abundances",
    "chequerboard_si",
    "mix",
]


@dataclass
class GroundTruth:
    """Known answer of a synthetic spectrum image.

    Each parameter is an attribute of the same name.

    Parameters
    ----------
    endmembers : numpy.ndarray, shape (K, n_channels)
        Noise-free endmember spectra (counts per channel at abundance 1).
    abundances : numpy.ndarray, shape (ny, nx, K)
        Abundance maps, non-negative and summing to one per pixel.
    names : list of str
        Name of each endmember.
    energy : numpy.ndarray, shape (n_channels,)
        Energy axis in eV.
    clean : numpy.ndarray, shape (ny, nx, n_channels)
        Noise-free spectrum image ``abundances @ endmembers``.

    Examples
    --------
    >>> from hspy_unmix.synthetic import chequerboard_si
    >>> s, truth = chequerboard_si(n_components=3, random_state=0)
    >>> truth.flat_abundances.shape, truth.names[0]
    ((4096, 3), 'CoO')
    """

    endmembers: np.ndarray
    abundances: np.ndarray
    names: list
    energy: np.ndarray
    clean: np.ndarray = field(repr=False)

    @property
    def flat_abundances(self) -> np.ndarray:
        """Abundances as (n_pixels, K) in HyperSpy's navigation order."""
        return self.abundances.reshape(-1, self.abundances.shape[-1])


# Phases of the two endmember sets. Edges: (exspy subshell or M-edge spec,
# relative strength). White lines: (L3 energy, L2-L3 splitting, L3/L2 ratio).
_SETS = {
    3: {
        "energy": (250.0, 10.0 / 3.0, 200),  # offset, eV/channel, channels
        "resolution": 4.0,
        "phases": [
            ("CoO", 3.1, [("O_K", 1.0), ("Co_L3", 0.8)]),
            ("Co", 2.9, [("Co_L3", 1.4)]),
            ("C support", 3.3, [("C_K", 1.6)]),
        ],
    },
    4: {
        "energy": (400.0, 1.0, 903),
        "resolution": 1.5,
        "phases": [
            ("LaMnO3", 3.0, [("O_K", 1.0), ("Mn_L3", 0.9), ("La_M5", 0.9)]),
            ("Fe3O4", 3.2, [("O_K", 0.8), ("Fe_L3", 1.0)]),
            ("NiO", 2.8, [("O_K", 0.7), ("Ni_L3", 1.0)]),
            ("Pt", 3.4, []),
        ],
    },
}

#: Number of components -> endmember set name, channels and energy range.
ENDMEMBER_SETS = {
    k: {
        "names": [p[0] for p in v["phases"]],
        "channels": v["energy"][2],
        "energy_range_eV": (
            v["energy"][0],
            v["energy"][0] + v["energy"][1] * (v["energy"][2] - 1),
        ),
    }
    for k, v in _SETS.items()
}

# L3 onset, spin-orbit splitting (eV) and white-line L3:L2 ratio.
_WHITE_LINES = {
    "Mn_L3": (640.0, 11.0, 2.5),
    "Fe_L3": (708.0, 13.1, 3.5),
    "Co_L3": (779.0, 15.0, 3.0),
    "Ni_L3": (855.0, 17.3, 2.7),
}
# Delayed M4,5 edges (not covered by the hydrogenic model): M5 energy, M4-M5.
_M_EDGES = {"La_M5": (832.0, 17.0)}


def _lorentzian(x, x0, fwhm):
    g = 0.5 * fwhm
    return g**2 / ((x - x0) ** 2 + g**2)


def _edge_shape(subshell: str, energy: np.ndarray) -> np.ndarray:
    """Shape of one ionisation edge, normalised to unit jump height."""
    if subshell in _M_EDGES:
        m5, split = _M_EDGES[subshell]
        shape = np.zeros_like(energy)
        for e0, h in ((m5, 1.0), (m5 + split, 0.7)):
            shape += 6.0 * h * _lorentzian(energy, e0, 2.0)
            shape += h * 0.5 * (1 + np.tanh((energy - e0) / 2.0)) * np.exp(
                -np.clip(energy - e0, 0, None) / 400.0
            )
        return shape / max(shape[energy > m5 + split + 20].max(initial=0), 1e-12) * 0.5
    from exspy.components import EELSCLEdge

    edge = EELSCLEdge(subshell, GOS="hydrogenic")
    edge.set_microscope_parameters(E0=200.0, alpha=0.0, beta=25.0, energy_scale=0.1)
    edge.intensity.value = 1.0
    fine = np.arange(energy[0] - 20.0, energy[-1] + 20.0, 0.1)
    xs = np.nan_to_num(edge.function(fine))
    onset = edge.onset_energy.value
    after = (fine > onset + 5) & (fine < onset + 30)
    jump = xs[after].mean() if after.any() else max(xs.max(), 1e-30)
    xs = xs / max(jump, 1e-30)
    if subshell in _WHITE_LINES:
        l3, split, ratio = _WHITE_LINES[subshell]
        xs = xs + 4.0 * _lorentzian(fine, l3 + 1.5, 2.5)
        xs = xs + 4.0 / ratio * _lorentzian(fine, l3 + split + 1.5, 2.5)
        # the hydrogenic L2 step at l3 + split
        xs = xs + 0.5 * (fine > l3 + split) * np.exp(
            -np.clip(fine - l3 - split, 0, None) / 300.0
        )
    return np.interp(energy, fine, xs, left=0.0, right=xs[-1])


def eels_endmembers(n_components: int = 3, *, counts: float = 2000.0):
    """Realistic core-loss endmembers of the two sets used by Brun et al..

    Parameters
    ----------
    n_components : {3, 4}
        ``3``: 200 channels from 250 eV at 3.33 eV/channel (CoO, Co, carbon
        support: O K, Co L2,3 and C K edges). ``4``: 903 channels from 400 eV at
        1 eV/channel (LaMnO3, Fe3O4, NiO and a Pt background-only phase: O K,
        Mn/Fe/Ni L2,3 and La M4,5 edges).
    counts : float
        Mean counts per channel of each endmember.

    Returns
    -------
    energy : numpy.ndarray, shape (n_channels,)
        Energy axis in eV.
    endmembers : numpy.ndarray, shape (K, n_channels)
        Endmember spectra, one per row.
    names : list of str
        Phase of each endmember.

    Examples
    --------
    >>> from hspy_unmix.synthetic import eels_endmembers
    >>> energy, E, names = eels_endmembers(4)
    >>> E.shape, names[-1]
    ((4, 903), 'Pt')
    """
    if n_components not in _SETS:
        raise ValueError(f"n_components must be 3 or 4 (the two sets), got {n_components}.")
    spec = _SETS[n_components]
    offset, scale, size = spec["energy"]
    energy = offset + scale * np.arange(size)
    sigma_channels = spec["resolution"] / 2.3548 / scale
    spectra = []
    for _name, r, edges in spec["phases"]:
        background = (energy / energy[0]) ** (-r)
        spectrum = background.copy()
        for subshell, strength in edges:
            onset = _WHITE_LINES.get(subshell, _M_EDGES.get(subshell, (None,)))[0]
            if onset is None:
                from exspy.components import EELSCLEdge

                onset = EELSCLEdge(subshell, GOS="hydrogenic").onset_energy.value
            # jump height relative to the background at the onset
            bg_at_onset = (onset / energy[0]) ** (-r)
            spectrum = spectrum + strength * bg_at_onset * _edge_shape(subshell, energy)
        if sigma_channels > 0.3:
            spectrum = ndimage.gaussian_filter1d(spectrum, sigma_channels, mode="nearest")
        spectra.append(spectrum / spectrum.mean() * counts)
    return energy, np.array(spectra), [p[0] for p in spec["phases"]]


def chequerboard_abundances(
    n_components: int = 3, shape: tuple = (64, 64), block: int = 8, averaging: int = 9,
    max_abundance: float = 1.0, random_state=None, impure_components: dict | None = None,
) -> np.ndarray:
    """Chequerboard abundance maps of Brun et al., shape ``shape + (K,)``.

    Each ``block x block`` square is assigned at random to one component
    (every component gets at least one block), then each map is smoothed by an
    ``averaging x averaging`` mean filter, which keeps the sum-to-one rule.
    ``max_abundance < 1`` shrinks every pixel towards the centre of the simplex,
    ``a' = t a + (1 - t) / K`` with ``t`` chosen so that no abundance exceeds
    ``max_abundance``: the no-pure-pixel variant.

    ``impure_components`` caps single components instead, like the Ru layer of
    Brun et al.'s experimental data, which has almost no pure pixel while the
    other phases have. In every pixel where a capped component ``j`` exceeds
    its cap ``c``, the excess ``a_j - c`` goes to the uncapped components in
    proportion to their abundances (equally where they are all zero), that is
    ``a_i' = a_i (1 - c) / (1 - a_j)`` when ``j`` is the only capped component:
    the pixel slides along the line from vertex ``j`` onto the plane
    ``a_j = c``. Abundances stay non-negative and sum to one, the uncapped
    components keep their pure pixels and the capped ones have none.

    The two variants differ in what the data determine. After the uniform
    shrink, the data are exactly the pure maps times mixed spectra
    ``t E_j + (1 - t) mean(E)``, so no method can tell the true endmembers
    from the data alone. After a cap, the data hull is a truncated simplex:
    the mixtures along the edges through vertex ``j`` keep their directions,
    so the missing vertex is still determined by the data as the point where
    these edges meet.

    Parameters
    ----------
    n_components : int
        Number of components ``K``.
    shape : tuple of int
        Map shape (rows, columns), multiples of ``block``.
    block, averaging : int
        Block size and averaging-filter width (8 and 9 in Brun et al.).
    max_abundance : float
        Below 1, every pixel is shrunk towards the simplex centre so that no
        abundance exceeds it; must exceed ``1 / K``.
    random_state : int, numpy.random.RandomState or None
        Seed of the block assignment.
    impure_components : dict of int to float, optional
        Component index -> largest abundance it may reach, in ``(0, 1]``, for
        instance ``{2: 0.6}``. At least one component must stay uncapped, and
        it cannot be combined with ``max_abundance < 1``. The random stream is
        the same with or without it.

    Returns
    -------
    numpy.ndarray, shape ``shape + (K,)``
        Abundance maps, non-negative and summing to one per pixel.

    Examples
    --------
    >>> from hspy_unmix.synthetic import chequerboard_abundances
    >>> A = chequerboard_abundances(3, (64, 64), random_state=0)
    >>> A.shape, bool(abs(A.sum(-1) - 1).max() < 1e-12)
    ((64, 64, 3), True)
    """
    caps = _check_impure_components(impure_components, n_components)
    if caps and max_abundance < 1.0:
        raise ValueError("impure_components cannot be combined with max_abundance < 1.")
    rng = check_random_state(random_state)
    ny, nx = shape
    if ny % block or nx % block:
        raise ValueError(f"shape {shape} is not a multiple of the block size {block}.")
    by, bx = ny // block, nx // block
    if by * bx < n_components:
        raise ValueError("fewer blocks than components.")
    labels = rng.randint(0, n_components, size=by * bx)
    forced = rng.permutation(by * bx)[:n_components]
    labels[forced] = np.arange(n_components)
    labels = labels.reshape(by, bx).repeat(block, 0).repeat(block, 1)
    maps = np.stack([(labels == j).astype(np.float64) for j in range(n_components)], -1)
    if averaging and averaging > 1:
        maps = ndimage.uniform_filter(maps, size=(averaging, averaging, 1), mode="nearest")
    maps = np.clip(maps, 0.0, None)
    maps /= maps.sum(-1, keepdims=True)
    if max_abundance < 1.0:
        if not 1.0 / n_components < max_abundance:
            raise ValueError(f"max_abundance must exceed 1/K = {1 / n_components:.3f}.")
        t = (max_abundance - 1.0 / n_components) / (1.0 - 1.0 / n_components)
        maps = t * maps + (1.0 - t) / n_components
    if caps:
        maps = _cap_components(maps, caps)
    return maps


def _check_impure_components(impure_components, n_components: int) -> dict:
    """Validated ``{index: cap}`` of the capped components (caps below 1 only)."""
    if impure_components is None:
        return {}
    if not isinstance(impure_components, dict):
        raise ValueError(
            "impure_components must be a dict {component index: largest abundance}, "
            f"got {type(impure_components).__name__}."
        )
    caps = {}
    for index, cap in impure_components.items():
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)):
            raise ValueError(f"impure_components keys must be integers, got {index!r}.")
        if not 0 <= index < n_components:
            raise ValueError(
                f"impure_components index {index} is out of range for {n_components} components."
            )
        cap = float(cap)
        if not 0.0 < cap <= 1.0:
            raise ValueError(
                f"impure_components cap of component {index} must lie in (0, 1], got {cap}."
            )
        if cap < 1.0:
            caps[int(index)] = cap
    if len(caps) >= n_components:
        raise ValueError("impure_components: at least one component must stay uncapped.")
    return caps


def _cap_components(maps: np.ndarray, caps: dict) -> np.ndarray:
    """Give the excess of each capped component to the uncapped ones."""
    maps = maps.copy()
    free = np.array([j not in caps for j in range(maps.shape[-1])])
    for j, cap in caps.items():
        excess = np.clip(maps[..., j] - cap, 0.0, None)
        over = excess > 0
        if not over.any():
            continue
        receivers = maps[over][:, free]
        total = receivers.sum(-1, keepdims=True)
        # below rounding level (left by the averaging filter), the pixel is pure
        mixed = total > 1e-12
        share = np.where(mixed, receivers / np.where(mixed, total, 1.0), 1.0 / free.sum())
        rows = maps[over]
        rows[:, free] += share * excess[over][:, None]
        rows[:, j] = cap
        maps[over] = rows
    return maps


def mix(abundances: np.ndarray, endmembers: np.ndarray) -> np.ndarray:
    """Linear mixing model: spectrum image ``abundances @ endmembers``.

    Parameters
    ----------
    abundances : numpy.ndarray, shape (..., K)
        Abundance maps, components last.
    endmembers : numpy.ndarray, shape (K, n_channels)
        Endmember spectra, one per row.

    Returns
    -------
    numpy.ndarray, shape (..., n_channels)
        The mixed spectra.

    Examples
    --------
    >>> import numpy as np
    >>> from hspy_unmix.synthetic import mix
    >>> mix(np.array([[0.25, 0.75]]), np.array([[4.0, 0.0], [0.0, 4.0]])).tolist()
    [[1.0, 3.0]]
    """
    return np.asarray(abundances) @ np.asarray(endmembers)


def chequerboard_si(
    n_components: int = 3, *, shape: tuple = (64, 64), block: int = 8, averaging: int = 9,
    counts: float = 2000.0, noise: bool = True, max_abundance: float = 1.0,
    impure_components: dict | None = None, random_state=None,
):
    """Brun et al. chequerboard EELS spectrum image and its ground truth.

    Parameters
    ----------
    n_components : {3, 4}
        Endmember set (see :func:`eels_endmembers`).
    shape : tuple of int
        Navigation shape (rows, columns).
    block, averaging : int
        Block size and averaging-filter width (8 and 9 in Brun et al.).
    counts : float
        Mean counts per channel of an endmember; sets the Poisson noise level.
    noise : bool
        Apply Poisson noise.
    max_abundance : float
        Below 1, no pixel is pure (see :func:`chequerboard_abundances`).
        Every pixel is shrunk towards the simplex centre, so the data are
        exactly pure maps times mixed spectra and the true endmembers cannot
        be recovered from them.
    impure_components : dict of int to float, optional
        Component index -> largest abundance it may reach, e.g. ``{2: 0.6}``:
        that component has no pure pixel while the others keep theirs, as for
        the Ru layer of Brun et al.'s experimental data. Unlike ``max_abundance``,
        the data hull is a truncated simplex whose edges through the missing
        vertex still determine it (see :func:`chequerboard_abundances`).
    random_state : int, numpy.random.RandomState or None
        Seed of the maps and the noise.

    Returns
    -------
    signal : exspy.signals.EELSSpectrum
        The noisy spectrum image, energy axis in eV.
    truth : GroundTruth
        Endmembers, abundance maps and noise-free data it was made from.

    Examples
    --------
    >>> import hspy_unmix
    >>> from hspy_unmix.synthetic import chequerboard_si
    >>> s, truth = chequerboard_si(n_components=3, random_state=0)
    >>> s.data.shape, truth.abundances.shape
    ((64, 64, 200), (64, 64, 3))
    """
    import hyperspy.api as hs

    rng = check_random_state(random_state)
    energy, endmembers, names = eels_endmembers(n_components, counts=counts)
    abundances = chequerboard_abundances(
        n_components,
        shape,
        block,
        averaging,
        max_abundance,
        random_state=rng,
        impure_components=impure_components,
    )
    clean = mix(abundances, endmembers)
    data = rng.poisson(clean).astype(np.float64) if noise else clean.copy()
    s = hs.signals.Signal1D(data)
    s.set_signal_type("EELS")
    ax = s.axes_manager.signal_axes[0]
    ax.name, ax.units, ax.offset, ax.scale = "Energy loss", "eV", energy[0], energy[1] - energy[0]
    for nav, name in zip(s.axes_manager.navigation_axes, ("x", "y"), strict=False):
        nav.name, nav.units, nav.scale = name, "nm", 0.5
    s.metadata.General.title = f"Synthetic chequerboard SI ({n_components} components)"
    s.metadata.set_item("Acquisition_instrument.TEM.beam_energy", 200.0)
    s.metadata.set_item("Acquisition_instrument.TEM.Detector.EELS.collection_angle", 25.0)
    s.metadata.set_item("Acquisition_instrument.TEM.convergence_angle", 20.0)
    truth = GroundTruth(endmembers, abundances, names, energy, clean)
    return s, truth
