"""Drawing one category per row from cumulative probability tables (vectorised)."""

import numpy as np


def sample_rows(cdf: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Index of the first column whose cumulative probability reaches each row's uniform draw."""
    picked = (cdf < uniforms[:, None]).sum(axis=1)
    return np.minimum(picked, cdf.shape[1] - 1)
