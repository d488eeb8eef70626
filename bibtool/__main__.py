"""python -m bibtool"""

from .cli import main

main()
