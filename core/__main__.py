"""``python -m zoo ...`` runs the ``zoo`` command (and so does ``torchrun -m zoo ...``).

The one core module that names the CLI: it is the program's entry, which nothing in the library imports.
"""

from zoo.cli.main import main

if __name__ == "__main__":
    main()
