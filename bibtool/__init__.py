"""bibtool: read a researcher's papers from any common source and write every bibliography format.

    >>> import bibtool
    >>> library = bibtool.read("data/profile.txt")
    >>> print(bibtool.write(library, "bibtex"))
"""

from .api import BibtoolError, Library, UsageError, convert, loads, read, write

__version__ = "0.1.0"
__all__ = ["read", "loads", "write", "convert", "Library", "BibtoolError", "UsageError", "__version__"]
