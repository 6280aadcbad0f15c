"""Sub-commands of the ``mmdiff-lite`` CLI (see ``mmdiff_lite/cli.py``)."""
