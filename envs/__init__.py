"""Synthetic problem instances; each environment knows its own truth (oracles)."""

from envs.core import Env, StepInfo

__all__ = ["Env", "StepInfo"]
