"""The gallery's figures, drawn at the width the pages show them."""

# The widest a figure is drawn for these pages, in inches: at matplotlib's 100
# dpi about the 613 px an image gets beside both sidebars at 1280 px, so that
# 10 pt labels are shown at about 13 px. The displays' own sizes (up to 12
# inches, for a screen) would be shrunk by half, their labels to 6-8 px.
FIGURE_WIDTH = 6.4


def matplotlib_at_page_width(block, block_vars, gallery_conf, **kwargs):
    """sphinx-gallery's matplotlib scraper, wider figures first narrowed.

    A figure wider than ``FIGURE_WIDTH`` keeps its aspect ratio and its font
    sizes; its layout engine (the displays use "constrained") places the
    panels again at the new size.
    """
    import matplotlib.pyplot as plt
    from sphinx_gallery.scrapers import matplotlib_scraper

    for number in plt.get_fignums():
        figure = plt.figure(number)
        width, height = figure.get_size_inches()
        if width > FIGURE_WIDTH:
            figure.set_size_inches(FIGURE_WIDTH, height * FIGURE_WIDTH / width)
    return matplotlib_scraper(block, block_vars, gallery_conf, **kwargs)
