"""A pytest plugin (``-p swap_mlp``): scikit-learn's MLP estimators become backproplab's.

Loaded before test files are collected, so a file that imports
``from sklearn.neural_network import MLPClassifier, MLPRegressor`` gets backproplab's
classes. Used by ``test_sklearn_own_suite.py`` to run scikit-learn's own tests as they ship.
"""

from __future__ import annotations

import sklearn.neural_network

import backproplab.sklearn


def pytest_configure(config: object) -> None:
    sklearn.neural_network.MLPClassifier = backproplab.sklearn.MLPClassifier
    sklearn.neural_network.MLPRegressor = backproplab.sklearn.MLPRegressor


def pytest_report_header(config: object) -> str:
    return "sklearn.neural_network.MLPClassifier/MLPRegressor swapped to backproplab"
