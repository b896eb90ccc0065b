"""Keras underneath the estimators: importing it, threads, builders, training.

Nothing here knows scikit-learn's estimator API: the modules take a Keras model
and arrays, and :mod:`skmnist.classifiers` calls them.
"""
