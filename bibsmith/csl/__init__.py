"""Our layer over citeproc-py: a style loader with fixed element classes, markup conversion, post-fixes."""
