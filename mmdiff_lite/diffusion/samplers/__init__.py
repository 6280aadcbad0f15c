"""Reverse-process samplers over dicts of modalities (any ``model_fn``; no network inside).

Each module of this package defines one sampler and registers it in :data:`.base.SAMPLERS`;
:func:`.base.load_samplers` imports them all, so a new sampler is one new file here.
"""
