"""Plotting helpers: every function takes a tidy DataFrame and returns a matplotlib Axes.

Importing this package changes no global matplotlib or seaborn setting (as with
seaborn, the theme is the caller's choice).  Call :func:`workbook.plotting.set_theme`
once (teaching notebooks do, through :func:`workbook.notebook.setup`) for a readable
seaborn theme and a CJK font so that Chinese labels render (no tofu boxes).
"""

from workbook.plotting.style import axes, cjk_font_path, set_theme

__all__ = ["axes", "cjk_font_path", "set_theme"]
