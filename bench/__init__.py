"""Kasse's benchmark suite: every figure is a ratio to a baseline measured on this machine in the same run."""
