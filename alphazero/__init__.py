"""Iterate, and the product: shared contracts (config, network, checkpoints) and what users run."""
