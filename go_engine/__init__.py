"""The game: rules (numba kernels over batched boards), coordinates, input features, symmetries, SGF.

Where numba caches these kernels is the entry point's choice (``alphazero.compile_cache``):
importing the package changes no global setting.
"""
