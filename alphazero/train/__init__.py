"""The training loop: self-play actors, replay buffer and learner on Ray, wired by one driver."""
