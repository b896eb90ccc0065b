"""Sphinx configuration for the skmnist documentation.

Build with ``make docs`` from the repository root (warnings are errors) or
``make -C docs html-noplot`` to skip running the gallery while editing text.

Three files are written at build time (all ignored by git), so that the pages
cannot drift from the code:

* ``_api_sections.rst``: one autosummary table per group of public names, made
  from ``skmnist._LAZY`` (the package's list of public names) and the public
  modules' ``__all__``. A name whose module cannot be imported is left out
  with a note in the build log. Each class page documents the methods skmnist
  writes and only names those it inherits unchanged from scikit-learn
  (``_templates/autosummary/class.rst``).
* ``_generated/cli_help.rst``: the ``--help`` of every ``skmnist`` command,
  taken from the installed parser, so the page cannot drift from the code.
* ``_generated/benchmark_results.rst``: includes ``benchmarks/RESULTS.md`` through
  MyST when the file exists, else a short placeholder.

Intersphinx and offline builds
------------------------------
Links to scikit-learn, NumPy, Keras and Matplotlib need their ``objects.inv``
inventories, which are downloaded at build time. CI and most sandboxes have no
network, and a failed download is a warning (an error under ``-W``). So the
mapping is switched on only when ``SKMNIST_DOCS_ONLINE=1`` is set; offline,
cross-references to those projects render as plain code text (Sphinx does not
warn about unresolved ``py:`` references unless ``nitpicky`` is on, and it is
off here). Release builds should set the variable.
"""

import importlib
import inspect
import os
import sys
import warnings
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
# Before anything imports TensorFlow (the API pages import the classifiers):
# quiet its C++ logging, and draw the gallery's figures without a display.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
# Import the checkout being documented, even when it is not installed.
sys.path.insert(0, str(ROOT))
# docs/gallery_figures.py, named in sphinx_gallery_conf.
sys.path.insert(0, str(DOCS))

import skmnist  # noqa: E402

# -- Project -----------------------------------------------------------------

project = "skmnist"
author = "the skmnist developers"
copyright = "2026, the skmnist developers"
version = release = skmnist.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    # MathJax 3.2.2 shipped inside the wheel and copied into _static/mathjax,
    # so formulas render with no network (the default loads it from a CDN).
    "sphinx-mathjax-offline",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    # Only to read benchmarks/RESULTS.md (Markdown) inside an .rst page.
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
# _generated/ and _api_sections.rst are written below and only included.
exclude_patterns = [
    "_build",
    "_templates",
    "_generated",
    "_api_sections.rst",
    "Thumbs.db",
    ".DS_Store",
    "auto_examples/*.ipynb",
    "auto_examples/*/*.ipynb",
]
templates_path = ["_templates"]
default_role = "literal"
pygments_style = "sphinx"

# benchmarks/RESULTS.md is written by a script, not for this site: its heading
# levels need not fit the page that includes it.
suppress_warnings = ["myst.header"]

# -- Autodoc, autosummary, numpydoc -------------------------------------------

# The API tables live in _api_sections.rst, written below and included by
# api.rst; autosummary reads files from disk, so it is pointed at it directly.
autosummary_generate = ["api.rst", "_api_sections.rst"]
autodoc_typehints = "none"
autodoc_default_options = {"members": False}
# The class template lists the methods itself (see _templates/autosummary),
# so numpydoc must not add a second, inherited-members table.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
# Class name -> the public methods it inherits unchanged from scikit-learn
# (filled by write_api_pages below); the class template lists them by name.
SKLEARN_METHODS = {}
autosummary_context = {"sklearn_methods": SKLEARN_METHODS}


def constructor_signature(app, what, name, obj, options, signature, return_annotation):
    """The signature Python itself gives a class: that of its ``__init__``.

    autodoc takes a user-defined ``__new__`` anywhere in the MRO before
    ``__init__``, so the estimators, whose ``KerasNamesMixin.__new__(cls,
    *args, **kwargs)`` refuses Keras' names before ``__init__`` runs, showed
    ``KerasMLP(*args, **kwargs)``; :func:`inspect.signature` takes the method
    defined lowest in the MRO, ``KerasMLP.__init__``. A class with no
    parameters (``PixelScaler``) gets ``()``, not a bare name.
    """
    if what != "class":
        return None
    return str(inspect.signature(obj)), return_annotation


# -- Intersphinx (see the module docstring) -----------------------------------

_INTERSPHINX = {
    "python": ("https://docs.python.org/3", None),
    "numpy": ("https://numpy.org/doc/stable/", None),
    "sklearn": ("https://scikit-learn.org/stable/", None),
    "matplotlib": ("https://matplotlib.org/stable/", None),
    "keras": ("https://keras.io/", None),
}
_ONLINE = os.environ.get("SKMNIST_DOCS_ONLINE", "0") == "1"
intersphinx_mapping = _INTERSPHINX if _ONLINE else {}
intersphinx_timeout = 10

# -- Gallery ------------------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["auto_examples"],
    "filename_pattern": "/plot_",
    "subsection_order": ["../examples/tutorial", "../examples/sklearn", "*"],
    "within_subsection_order": "FileNameSortKey",
    "doc_module": ("skmnist",),
    "backreferences_dir": "generated/backreferences",
    # Figures drawn at the width they are shown (docs/gallery_figures.py); a
    # name, not the function, so that Sphinx can cache the configuration.
    "image_scrapers": ("gallery_figures.matplotlib_at_page_width",),
    "remove_config_comments": True,
    "min_reported_time": 0,
    "matplotlib_animations": False,
    "show_memory": False,
    # Show estimators' HTML diagrams and DataFrames, not the reprs of the
    # Display and matplotlib objects that plotting calls return.
    "capture_repr": ("_repr_html_", "__repr__"),
    "ignore_repr_types": r"matplotlib|Display|BarContainer",
}

# -- HTML ---------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"skmnist {release}"
html_theme_options = {
    "logo": {"text": "skmnist"},
    "navbar_align": "left",
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_sidebars = {"install": [], "changelog": [], "benchmarks": []}
html_static_path = ["_static"]
html_css_files = ["skmnist.css"]
html_show_sourcelink = True

# -- Pages written at build time ----------------------------------------------

# Sections of the API reference, in order: submodule -> (title, blurb).
# A public module not listed here still gets a section, titled by its name.
_API_GROUPS = {
    "classifiers": (
        "Classifiers",
        "Keras models that scikit-learn treats as classifiers.",
    ),
    "baseline": (
        "Baseline",
        "The classic scikit-learn model the Keras ones are compared to.",
    ),
    "preprocessing": ("Preprocessing", "Transformers for pixel data."),
    "datasets": ("Datasets", "Loading MNIST from several sources."),
    "comparison": (
        "Model comparison",
        "Fit several models on the same data and compare them.",
    ),
    "plotting": ("Plotting", "Display objects, following scikit-learn's plotting API."),
    "persistence": ("Saving and loading", "Save fitted models without pickle."),
    "export": (
        "ONNX export",
        "Run fitted models with onnxruntime (needs ``skmnist[onnx]``).",
    ),
    "parallel": (
        "Parallel and distributed searches",
        "TensorFlow threads in worker processes, and Dask clusters.",
    ),
    "exceptions": (
        "Errors and warnings",
        "Every public error and warning, defined in ``skmnist.exceptions``.",
    ),
}
# Public modules that are not Python API: the command line has its own page.
_NOT_API = {"cli", "__main__"}


def _import(module):
    """``skmnist.<module>``, or None while it does not exist yet."""
    try:
        return importlib.import_module(f"skmnist.{module}")
    except ImportError:
        return None


def _public_objects():
    """Every public object as (module, prefix, name), and the names missing.

    The top-level names are those of ``skmnist._LAZY``; names that a public
    submodule exports in ``__all__`` without a top-level alias are documented
    under the submodule (e.g. ``skmnist.datasets.get_data_home``).
    """
    import pkgutil

    found, missing = [], []
    for name, module in skmnist._LAZY.items():
        if hasattr(_import(module) or object(), name):
            found.append((module, "skmnist", name))
        else:
            missing.append(f"skmnist.{module}.{name}")
    modules = dict.fromkeys(skmnist._LAZY.values())
    modules.update(
        dict.fromkeys(
            info.name
            for info in pkgutil.iter_modules(skmnist.__path__)
            if not info.name.startswith("_") and info.name not in _NOT_API
        )
    )
    for module in modules:
        imported = _import(module)
        for name in getattr(imported, "__all__", ()):
            # A name another public module defines (an error re-exported where
            # it is raised) is documented once, in its own module.
            home = getattr(getattr(imported, name), "__module__", "")
            elsewhere = (
                home.startswith("skmnist.")
                and home != imported.__name__
                and not home.rpartition(".")[2].startswith("_")
            )
            if name not in skmnist._LAZY and not elsewhere:
                found.append((module, f"skmnist.{module}", name))
    return found, missing


def _sklearn_methods(cls):
    """Public methods of ``cls`` whose code is scikit-learn's, unchanged.

    Their docstrings cite labels and glossary terms of scikit-learn's own
    documentation, which cannot resolve here, so the class pages name these
    methods and link to scikit-learn instead of rendering them (see
    ``_templates/autosummary/class.rst``).
    """
    return sorted(
        name
        for name in dir(cls)
        if not name.startswith("_")
        and callable(getattr(cls, name))
        and getattr(getattr(cls, name), "__module__", "").startswith("sklearn.")
    )


def _template(obj):
    if isinstance(obj, type) and issubclass(obj, BaseException):
        return "exception"
    if isinstance(obj, type):
        return "class"
    # A constant (skmnist.export.OPSET) has no signature to document.
    return "function" if callable(obj) else "data"


def write_api_pages():
    """Write the autosummary tables of ``_api_sections.rst``; return the missing."""
    found, missing = _public_objects()
    by_module = {}
    for module, prefix, name in found:
        obj = getattr(importlib.import_module(prefix), name)
        by_module.setdefault(module, []).append((prefix, _template(obj), name))
        if _template(obj) == "class":
            SKLEARN_METHODS[f"{prefix}.{name}"] = _sklearn_methods(obj)
    order = {"class": 0, "function": 1, "data": 2, "exception": 3}
    lines = []
    for module in sorted(
        by_module,
        key=lambda m: (
            m not in _API_GROUPS,
            list(_API_GROUPS).index(m) if m in _API_GROUPS else m,
        ),
    ):
        title, blurb = _API_GROUPS.get(module, (f"skmnist.{module}", ""))
        lines += [title, "-" * len(title), "", blurb, ""]
        blocks = {}
        for prefix, template, name in by_module[module]:
            blocks.setdefault((order[template], prefix, template), []).append(name)
        for (_, prefix, template), names in sorted(blocks.items()):
            lines += [
                f".. currentmodule:: {prefix}",
                "",
                ".. autosummary::",
                "   :toctree: generated/",
                f"   :template: autosummary/{template}.rst",
                "",
                *[f"   {name}" for name in sorted(names)],
                "",
            ]
    (DOCS / "_api_sections.rst").write_text("\n".join(lines))
    # Stubs of names that were renamed or removed would be orphan pages.
    expected = {f"{prefix}.{name}" for _, prefix, name in found}
    for stub in (DOCS / "generated").glob("skmnist.*.rst"):
        if stub.stem not in expected:
            stub.unlink()
    return missing


def write_benchmark_page(out_dir):
    """Include benchmarks/RESULTS.md if it exists, else say how to make it."""
    results = ROOT / "benchmarks" / "RESULTS.md"
    if results.exists():
        # A leading "/" is Sphinx for "relative to docs/", wherever included.
        text = (
            ".. include:: /../benchmarks/RESULTS.md\n   :parser: myst_parser.sphinx_\n"
        )
    else:
        text = (
            ".. note::\n\n"
            "   No results are checked in yet. The table is produced by\n"
            "   ``python benchmarks/run.py`` (or ``make bench``), which writes\n"
            "   ``benchmarks/RESULTS.md``; this page includes that file.\n"
        )
    (out_dir / "benchmark_results.rst").write_text(text)


def write_cli_page(out_dir):
    """Write ``skmnist --help`` and each command's help as literal blocks."""
    try:
        from skmnist.cli import build_parser
    except ImportError:
        text = ".. note::\n\n   The command line is not available in this build.\n"
    else:
        import argparse

        # argparse wraps to the terminal width; fix it so the page is stable
        # and fits a code block beside both sidebars at 1280 px.
        os.environ["COLUMNS"] = "66"
        parser = build_parser()
        commands = next(
            action
            for action in parser._actions
            if isinstance(action, argparse._SubParsersAction)
        )
        parts = [("skmnist", parser)]
        parts += [(f"skmnist {name}", sub) for name, sub in commands.choices.items()]
        text = ""
        for command, sub in parts:
            title = f"``{command}``"
            help_text = sub.format_help().rstrip().replace("\n", "\n   ")
            text += (
                f"{title}\n{'-' * len(title)}\n\n"
                f".. code-block:: text\n\n   {help_text}\n\n"
            )
    (out_dir / "cli_help.rst").write_text(text)


_GENERATED = DOCS / "_generated"
_GENERATED.mkdir(exist_ok=True)
_MISSING = write_api_pages()
write_benchmark_page(_GENERATED)
write_cli_page(_GENERATED)
if _MISSING:
    # Not a Sphinx warning: a module still being written must not fail -W.
    print(
        "skmnist docs: not in the API reference yet (module missing): "
        + ", ".join(_MISSING)
    )

# TensorFlow and Keras print deprecation noise while the gallery runs.
warnings.filterwarnings(
    "ignore", category=DeprecationWarning, module=r"(tensorflow|keras|google)\..*"
)


def setup(app):
    from sphinx.domains.python import PyClasslike

    class ClassWithParentheses(PyClasslike):
        """``class PixelScaler()``: Sphinx drops an empty list of parameters
        from a class, which then reads as if it were not called."""

        def needs_arglist(self):
            return self.objtype == "class"

    app.add_directive_to_domain("py", "class", ClassWithParentheses, override=True)
    # Before numpydoc's handler (priority 500), whose result would win.
    app.connect("autodoc-process-signature", constructor_signature, priority=400)
