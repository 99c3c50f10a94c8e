"""`python -m pathgrad` runs the command line."""

from .cli import main

main()
