"""bibsmith: read a researcher's papers from any common source and write every bibliography format.

    >>> import bibsmith
    >>> library = bibsmith.read("data/profile.txt")
    >>> print(bibsmith.write(library, "bibtex"))
"""

from .api import BibsmithError, Library, UsageError, convert, loads, read, write

__version__ = "0.1.0"
__all__ = ["read", "loads", "write", "convert", "Library", "BibsmithError", "UsageError", "__version__"]
