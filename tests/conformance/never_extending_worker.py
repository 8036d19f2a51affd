#!/usr/bin/env python3
"""A deliberately broken worker for the conformance suite: examples/python-worker's,
counting syllables, but never extending the leases it holds. The suite must catch it
(its lease_extension case fails); every other case passes.

    PYTHONPATH=GEN:examples/python-worker python3 never_extending_worker.py --master=H:P
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "examples", "python-worker"))

from distributo_worker import Worker  # noqa: E402
from worker import count  # noqa: E402


class NeverExtendingWorker(Worker):
    """Sends outcomes as the real one does, and never an extension."""

    def _next_batch_locked(self, extend):
        return super()._next_batch_locked(False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--master", required=True, help="HOST:PORT")
    args = parser.parse_args()
    return NeverExtendingWorker(args.master, count, 2).run()


if __name__ == "__main__":
    sys.exit(main())
