"""``python -m skmnist``: the same as the ``skmnist`` command."""

from .cli import main

raise SystemExit(main())
