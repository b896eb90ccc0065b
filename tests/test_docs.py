"""What a reader of the documentation sees.

The sources are checked always: code blocks of the hand-written pages and
the gallery's code fit a code block at 1280 px. The built site
(``docs/_build/html``, from ``make docs``) is checked when it exists: real
signatures on the API pages, and math that renders offline rather than raw
TeX. CI runs this file again after ``make docs`` (``.ci/run``).
"""

import ast
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# Another built copy can be checked with SKMNIST_DOCS_HTML=path.
HTML = Path(os.environ.get("SKMNIST_DOCS_HTML", DOCS / "_build" / "html"))

# Characters of a code block's line shown without wrapping at 1280 px, beside
# both sidebars (pydata-sphinx-theme: a 611 px block of 8.9 px characters).
CODE_WIDTH = 68

_BLOCK_START = re.compile(
    r"^(?P<indent>\s*)(?:\.\. (?:code-block|code|sourcecode)::.*|(?!\.\. ).*::)\s*$"
)


def literal_lines(text):
    """``(line number, content)`` of each line of the literal and code blocks."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = _BLOCK_START.match(lines[i])
        if match is None:
            i += 1
            continue
        base = len(match.group("indent"))
        j = i + 1
        while j < len(lines) and re.match(r"^\s+:[\w-]+:", lines[j]):  # options
            j += 1
        block_indent = None
        while j < len(lines):
            line = lines[j]
            indent = len(line) - len(line.lstrip())
            if line.strip() and indent <= base:
                break
            if line.strip():
                block_indent = block_indent or indent
                yield j + 1, line[min(indent, block_indent) :]
            j += 1
        i = j


def test_literal_lines_reads_code_blocks_and_literal_paragraphs():
    text = (
        "Text::\n\n   literal\n\nmore\n\n.. code-block:: python\n"
        "   :caption: x\n\n   a = 1\n     b\n\n.. note::\n\n   not code\n"
    )
    assert list(literal_lines(text)) == [(3, "literal"), (10, "a = 1"), (11, "  b")]


def test_code_blocks_of_the_pages_fit_the_page():
    written = {"sg_execution_times.rst", "_api_sections.rst"}  # by the build
    pages = [*DOCS.glob("*.rst"), *DOCS.glob("user_guide/*.rst")]
    pages = [page for page in pages if page.name not in written]
    assert pages
    long = [
        f"{page.relative_to(ROOT)}:{number}: {len(line)} > {CODE_WIDTH}: {line}"
        for page in pages
        for number, line in literal_lines(page.read_text(encoding="utf-8"))
        if len(line.rstrip()) > CODE_WIDTH
    ]
    assert not long, "\n".join(long)


def test_gallery_code_fits_the_page():
    # The comments of a "# %%" cell become paragraphs and wrap; the code,
    # its own comments included, is shown as written.
    long = []
    for script in sorted((ROOT / "examples").rglob("*.py")):
        source = script.read_text(encoding="utf-8")
        body = ast.parse(source).body
        docstring_end = body[0].end_lineno if isinstance(body[0], ast.Expr) else 0
        in_text = False
        for number, line in enumerate(source.splitlines(), 1):
            in_text = line.startswith("# %%") or (in_text and line.startswith("#"))
            if number <= docstring_end or in_text:
                continue
            if len(line) > CODE_WIDTH:
                long.append(f"{script.relative_to(ROOT)}:{number}: {line}")
    assert not long, "\n".join(long)


# -- The built site ----------------------------------------------------------

built = pytest.mark.skipif(
    not (HTML / "index.html").exists(),
    reason="docs/_build/html not built (make docs); CI checks it after the build",
)


class _Page(HTMLParser):
    """Signatures, math elements, scripts and text outside math and code."""

    _SKIP = {"script", "style", "pre", "code"}
    _VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link"}
    _VOID |= {"meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []  # (tag, skipped, is math, is signature)
        self.signatures, self.text, self.scripts = [], [], []
        self.n_math = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "script" and attrs.get("src"):
            self.scripts.append(attrs["src"])
        is_math = "math" in classes
        self.n_math += is_math
        is_signature = tag == "dt" and "sig-object" in classes
        if is_signature:
            self.signatures.append("")
        if tag in self._VOID:
            return
        self.stack.append((tag, tag in self._SKIP, is_math, is_signature))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        if any(signature for *_, signature in self.stack):
            self.signatures[-1] += data
        if not any(skipped or math for _, skipped, math, _ in self.stack):
            self.text.append(data)


def _read(page):
    parser = _Page()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def _pages():
    return [
        page
        for page in sorted(HTML.rglob("*.html"))
        if not {"_static", "_sources", "_modules"} & set(page.parts)
    ]


def _parameters(signature):
    """``"*args, **kwargs"`` from ``"class skmnist.X(*args, **kwargs)"``."""
    text = " ".join(signature.replace("¶", "").split())
    text = re.sub(r"\[source\]$", "", text).strip()
    if "(" not in text:
        return None
    return text[text.index("(") + 1 : text.rindex(")")].strip()


def test_parameters_of_a_signature():
    assert _parameters("class skmnist.X(*args, **kwargs)¶") == "*args, **kwargs"
    assert _parameters("class skmnist.X(*, a=1, b=(1, 2))") == "*, a=1, b=(1, 2)"
    assert _parameters("class skmnist.X") is None


@built
def test_api_pages_show_real_signatures():
    pages = sorted((HTML / "generated").glob("skmnist.*.html"))
    assert pages
    wrong = []
    for page in pages:
        for signature in _read(page).signatures:
            parameters = _parameters(signature)
            is_class = signature.lstrip().startswith("class ")
            if (is_class and parameters is None) or parameters == "*args, **kwargs":
                wrong.append(f"{page.name}: {' '.join(signature.split())}")
    assert not wrong, "\n".join(wrong)
    estimator = _read(HTML / "generated" / "skmnist.KerasMLP.html").signatures[0]
    assert "hidden_layer_sizes=(128,)" in estimator


@built
def test_math_renders_offline_and_no_raw_tex_is_shown():
    raw, remote = [], []
    n_math = 0
    for page in _pages():
        parsed = _read(page)
        text = "".join(parsed.text)
        for tex in re.findall(r"\\\[|\\\(|\$\$|\\begin\{|\\frac\{", text):
            raw.append(f"{page.relative_to(HTML)}: {tex!r}")
        if parsed.n_math:
            n_math += parsed.n_math
            mathjax = [src for src in parsed.scripts if "mathjax" in src.lower()]
            local = [
                src
                for src in mathjax
                if "://" not in src
                and (page.parent / src.split("?")[0]).resolve().is_file()
            ]
            if not local or len(local) != len(mathjax):
                remote.append(f"{page.relative_to(HTML)}: {mathjax}")
    assert n_math > 0  # the math pages were built
    assert not raw, "TeX outside math markup:\n" + "\n".join(raw)
    assert not remote, "MathJax not loaded from the site:\n" + "\n".join(remote)


@built
def test_gallery_figures_are_drawn_at_the_width_shown():
    # docs/gallery_figures.py narrows each figure to 6.4 inches (640 px): a
    # block of about 613 px shows it at 96 %, 10 pt labels at about 13 px.
    # At the displays' own widths (up to 1,200 px) they were shown at half size.
    images = [
        image
        for image in sorted((HTML / "_images").glob("sphx_glr_*.png"))
        if "thumb" not in image.name
    ]
    assert images
    wide = []
    for image in images:
        with image.open("rb") as png:
            header = png.read(24)
        width = int.from_bytes(header[16:20], "big")  # the IHDR chunk
        if width > 650:
            wide.append(f"{image.name}: {width} px")
    assert not wide, "\n".join(wide)
