"""Optional C speed-ups (issue 8): each `bibsmith/_fast*.c` is built when a C compiler is there.

Each C module does exactly what a pure-Python function of bibsmith does (that function stays, is the
reference in the tests, and runs wherever the module could not be built), so a failed build only
makes bibsmith slower: `optional=True` turns a compile error into a warning.
"""

from pathlib import Path

from setuptools import Extension, setup

setup(ext_modules=[
    Extension(f"bibsmith.{source.stem}", [str(source)], optional=True)
    for source in sorted(Path("bibsmith").glob("_fast*.c"))
])
