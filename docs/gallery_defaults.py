"""Settings applied before each gallery example (sphinx-gallery ``reset_modules``).

Readable figures (fonts sized for the page width) and no progress bars in
the captured output. The examples themselves stay free of this set-up.
"""


def reset(gallery_conf, fname):
    import matplotlib

    matplotlib.rcParams.update({
        # figures are 9-10 inches wide, shown about 650 pixels wide
        "font.size": 14,
        "axes.titlesize": 14,
        "axes.labelsize": 14,
        "xtick.labelsize": 12,
        "ytick.labelsize": 12,
        "legend.fontsize": 12,
        "figure.dpi": 100,
        "savefig.dpi": 100,
    })
    try:
        import hyperspy.api as hs
    except ImportError:
        return
    # in memory only: HyperSpy writes its preferences file on save() alone
    hs.preferences.General.show_progressbar = False
