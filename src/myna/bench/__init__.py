"""`myna bench ...`: load scenarios against a real server on 127.0.0.1.

Every scenario takes ``--duration`` and ``--json FILE`` and reports the same fields,
so results can be tracked over time (docs/benchmarks.md).
"""
