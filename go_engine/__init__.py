"""The game: rules (numba kernels over batched boards), coordinates, input features, symmetries, SGF."""
