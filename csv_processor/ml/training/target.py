"""A log-transformed target for regression on strictly positive, right-skewed targets (prices, sizes).

Errors on such targets grow with the value, so a model fitted on log(y) weighs a 10% miss on a cheap
house like one on an expensive house and often generalises better. Whether it does on a given dataset
is an empirical question: Auto mode tries it as a configuration option and keeps it only when
cross-validation says so (`log_target` in a configuration's parameters). Predictions are mapped back
with exp, clipped to a little beyond the log range seen in training so a linear model cannot return
an overflow on an outlying row.
"""

import logging

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import TransformedTargetRegressor

logger = logging.getLogger(__name__)

# Sample skewness above which a positive target is a candidate (a common rule of thumb for prices).
MIN_SKEW = 0.75
# Predictions may go this far (in log units) beyond the training range: e^1 = 2.7x.
LOG_SLACK = 1.0


def log_target_suits(y: pd.Series) -> bool:
    """True when every value is positive and the distribution is right-skewed."""
    values = y.to_numpy(dtype="float64")
    if len(values) < 3 or not np.isfinite(values).all() or values.min() <= 0:
        return False
    skew = pd.Series(values).skew()
    # A float64 column's skew is a float (NaN when undefined); the stubs type it as any scalar.
    return bool(isinstance(skew, float) and np.isfinite(skew) and skew > MIN_SKEW)


class LogTarget(TransformerMixin, BaseEstimator):
    """log(y) forwards; exp back, clipped to the training log range widened by LOG_SLACK."""

    def fit(self, y: np.ndarray, _=None) -> "LogTarget":
        logs = np.log(np.asarray(y, dtype="float64"))
        self.low_, self.high_ = float(logs.min()) - LOG_SLACK, float(logs.max()) + LOG_SLACK
        return self

    def transform(self, y: np.ndarray) -> np.ndarray:
        return np.log(np.asarray(y, dtype="float64"))

    def inverse_transform(self, z: np.ndarray) -> np.ndarray:
        return np.exp(np.clip(np.asarray(z, dtype="float64"), self.low_, self.high_))


def with_log_target(estimator: BaseEstimator) -> TransformedTargetRegressor:
    return TransformedTargetRegressor(regressor=estimator, transformer=LogTarget(), check_inverse=False)


def inner_estimator(estimator: BaseEstimator) -> BaseEstimator:
    """The fitted regressor inside a log-target wrapper, else the estimator itself."""
    return getattr(estimator, "regressor_", estimator)
