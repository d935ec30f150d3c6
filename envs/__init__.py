"""Synthetic problem instances; each environment knows its own truth (oracle quantities)."""

from envs.core import Env, StepInfo

__all__ = ["Env", "StepInfo"]
