"""MNIST for scikit-learn users: one call, cached, verified, offline by default."""

from ._mnist import download_mnist, get_data_home, load_mnist

__all__ = ["download_mnist", "get_data_home", "load_mnist"]
