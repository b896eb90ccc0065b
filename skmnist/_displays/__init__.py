"""Display objects behind :mod:`skmnist.plotting` (matplotlib imported lazily)."""
