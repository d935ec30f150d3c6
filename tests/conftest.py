"""Strict numerics for every test: rank promotion raises, NaN checks on where cheap."""

import jax
import pytest

jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture
def key():
    return jax.random.key(0)
