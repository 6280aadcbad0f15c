"""Reverse-process samplers over dicts of modalities (any ``model_fn``; no network inside)."""
