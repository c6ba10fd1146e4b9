"""workbook.plotting changes no global style on import; set_theme() does, when called."""

import subprocess
import sys


def test_import_changes_no_global_style_and_set_theme_does():
    code = (
        "import matplotlib as mpl\n"
        "before = dict(mpl.rcParams)\n"
        "import workbook.plotting, workbook.plotting.rfm, workbook.plotting.kpi\n"
        "changed = [k for k, v in mpl.rcParams.items() if before.get(k) != v]\n"
        "assert not changed, changed\n"
        "workbook.plotting.set_theme()\n"
        "assert mpl.rcParams['font.sans-serif'][0] == 'Noto Sans CJK SC', mpl.rcParams['font.sans-serif']\n"
        "assert mpl.rcParams['axes.unicode_minus'] is False\n"
    )
    # a fresh interpreter: other tests may already have set the theme in this one
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
