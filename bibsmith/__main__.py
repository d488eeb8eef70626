"""python -m bibsmith"""

from .cli import main

main()
