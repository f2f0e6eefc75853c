"""Breaking-change detection between two OpenAPI documents (Swagger 2.0, 3.0, 3.1).

Rule ids and levels follow oasdiff (``checker/``), so reports read the same as that
tool's and the oasdiff test corpus can measure this engine.
"""

from __future__ import annotations

from .operations import diff_documents
from .report import ERR, INFO, WARN

__all__ = ["ERR", "INFO", "WARN", "diff_documents"]
