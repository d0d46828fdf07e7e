"""Data exchange: analysis-ready (tidy) exports with a codebook, and the formats of the
field (REDCap). Pure functions over what the store reads; the CLI and the web app call them.
"""

from pustula.interop.tidy import FORMATS, TidyExport, build_tidy, write_tidy

__all__ = ["FORMATS", "TidyExport", "build_tidy", "write_tidy"]
