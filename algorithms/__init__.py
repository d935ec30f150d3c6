"""Learners: one sub-package per family, over the protocol in :mod:`algorithms.core`."""

from algorithms.core import Learner

__all__ = ["Learner"]
