"""Template variables per feature: each module here defines ``CONTEXT``, merged into the test's.

Keeping them apart lets a feature add its pages' variables without touching the others'.
"""
