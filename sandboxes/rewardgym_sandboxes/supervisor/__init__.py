"""The sandbox supervisor: runs untrusted programs against tests, one job at a time, with limits.

Standard library only (it is copied into minimal runtime containers). See ``sandboxes/README.md``.
"""

__version__ = "0.1.0"
