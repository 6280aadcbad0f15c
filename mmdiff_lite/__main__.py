"""``python -m mmdiff_lite`` is the ``mmdiff-lite`` command."""
from .cli import main

raise SystemExit(main())
