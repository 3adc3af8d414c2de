"""Rules-engine tests: make the reference oracle (``reference.py`` beside this file) importable."""

from __future__ import annotations

import sys
from pathlib import Path

# pytest's default import mode already puts this folder on sys.path; other modes do not.
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
