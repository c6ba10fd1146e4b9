"""Plotting helpers: every function takes a tidy DataFrame and returns a matplotlib Axes.

Importing this package sets a readable seaborn theme and a CJK font so that Chinese
labels render (no tofu boxes), see :func:`workbook.plotting.set_theme`.
"""

from workbook.plotting.style import cjk_font_path, set_theme

set_theme()

__all__ = ["cjk_font_path", "set_theme"]
