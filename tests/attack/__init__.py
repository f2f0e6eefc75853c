"""Attack checks against a running Appkeeper (``.ci/attack.sh`` starts one and runs them).

Run as ``python -m tests.attack``; see ``__main__`` for the settings it reads.
"""
