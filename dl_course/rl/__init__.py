"""Reinforcement learning on gymnax: every run a pure function of its key."""
