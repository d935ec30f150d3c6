"""What the OCO figure scripts share (runs: ``experiments.common.run_learners``)."""

from __future__ import annotations

import jax
import numpy as np


def stack_instances(params_list):
    """A list of params pytrees -> one pytree with a leading instance axis."""
    return jax.tree.map(lambda *xs: np.stack([np.asarray(x) for x in xs]), *params_list)
