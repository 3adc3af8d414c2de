"""Amplify: batched MCTS over many games at once, and the self-play actors."""
