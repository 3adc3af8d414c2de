"""Distill: the replay buffer, sampling with augmentation, and the learner."""
