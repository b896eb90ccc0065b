"""``python -m skmnist``: the same as the ``skmnist`` command."""

from .cli import main

if __name__ == "__main__":  # not when doctest collection imports this module
    raise SystemExit(main())
