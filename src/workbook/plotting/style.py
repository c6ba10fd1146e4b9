"""Chart style and a CJK font that ships with a PyPI package (no system fonts needed)."""

from __future__ import annotations

import warnings
from functools import lru_cache
from importlib import resources
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib import font_manager

CJK_FAMILY = "Noto Sans CJK SC"


@lru_cache(maxsize=1)
def cjk_font_path() -> Path | None:
    """Path of the Noto Sans CJK SC font shipped by ``mplfonts``, or None if absent."""
    try:
        root = resources.files("mplfonts") / "fonts"
    except ModuleNotFoundError:
        return None
    for name in ("NotoSansCJKsc-Regular.otf", "NotoSansMonoCJKsc-Regular.otf"):
        candidate = Path(str(root / name))
        if candidate.exists():
            return candidate
    return None


def set_theme(context: str = "notebook") -> None:
    """Set the seaborn theme and a font able to draw Chinese labels.

    Falls back to DejaVu Sans with one warning when no CJK font is available,
    so plots still render (Chinese labels would then show as boxes).
    """
    import seaborn as sns

    sns.set_theme(context=context, style="whitegrid")
    path = cjk_font_path()
    families = ["DejaVu Sans"]
    if path is not None:
        font_manager.fontManager.addfont(str(path))
        families = [CJK_FAMILY, "DejaVu Sans"]
    else:
        warnings.warn(
            "No CJK font found (install the 'mplfonts' package); Chinese labels will not render.",
            stacklevel=2,
        )
    plt.rcParams["font.family"] = "sans-serif"
    plt.rcParams["font.sans-serif"] = families
    # The CJK font lacks the Unicode minus sign; use a hyphen so negative ticks render.
    plt.rcParams["axes.unicode_minus"] = False
    plt.rcParams["figure.dpi"] = 100


def axes(ax=None, figsize: tuple[float, float] = (8, 4.5), **subplot_kw):
    """The Axes to draw into: ``ax`` itself, or a new figure's Axes (constrained layout).

    Every plotting function starts with ``ax = axes(ax, figsize)``, so ``ax=None``
    means the same thing everywhere.  ``subplot_kw`` (e.g. ``projection="polar"``)
    is passed to the new figure's subplot.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained", subplot_kw=subplot_kw or None)
    return ax
