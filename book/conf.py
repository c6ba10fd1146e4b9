"""Sphinx configuration of the course book (built by ``book/build.py``; see ``make book``).

Sphinx + MyST-NB + sphinx-book-theme, all installed from PyPI: the theme's CSS, fonts and
JavaScript are copied from the installed packages, nothing is fetched while building or
when a page opens, and the site works from ``file://`` (a USB stick, no server).
"""

project = "会员生命周期管理实战课程 (Membership Lifecycle Workbook)"
author = "Membership Lifecycle Workbook"
copyright = "Membership Lifecycle Workbook contributors, MIT licence"
language = "zh_CN"  # Chinese-first: theme labels, search page and the search index's word splitter
html_search_language = "zh"  # jieba splits Chinese text into words for the search index

extensions = ["myst_nb"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints"]

# Notebooks arrive executed (build.py runs each once, with a cache); MyST-NB only renders them.
nb_execution_mode = "off"
# Code cells are tagged hide-input by build.py: folded, with this toggle.
nb_code_prompt_show = "显示代码 (show code)"
nb_code_prompt_hide = "隐藏代码 (hide code)"
# No widget JavaScript from a CDN: the build replaces widget outputs with a note.
nb_ipywidgets_js = {}
nb_merge_streams = True
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header", "myst.xref_missing", "misc.highlighting_failure"]

html_theme = "sphinx_book_theme"
html_title = "会员生命周期管理实战课程"
html_static_path = ["_static"]
html_css_files = ["cjk.css"]
html_copy_source = False  # no _sources/ copies of the notebooks (and their outputs) twice
html_show_sourcelink = False
# Result snippets would be fetched page by page, which browsers refuse under file://.
html_show_search_summary = False
html_last_updated_fmt = None
html_theme_options = {
    "search_bar_text": "搜索课程… (search)",
    "show_toc_level": 2,
    "home_page_in_toc": True,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "use_source_button": False,
    "use_issues_button": False,
    "use_edit_page_button": False,
    "navigation_with_keys": False,
}


def setup(app):
    """Register a Chinese search language whose JavaScript stemmer exists.

    Sphinx 9's Chinese search ships the English (Snowball) stemmer for Latin words but
    names it after the language (``window.Stemmer = ChineseStemmer``), so the search page
    stops with a ReferenceError and finds nothing.  Same splitter (jieba) and index, the
    stemmer under the name the script defines.
    """
    from sphinx.search.zh import SearchChinese

    class SearchChineseWithStemmer(SearchChinese):
        language_name = "English" if SearchChinese.js_stemmer_rawcode == "english-stemmer.js" else "Chinese"

    app.add_search_language(SearchChineseWithStemmer)
