#!/usr/bin/env python3
"""Counts syllables for a distributo-master job, as a Python gRPC worker.

    python3 worker.py --master=127.0.0.1:4000 [--concurrency=4]

Tasks are {"word": "banana"} (with "sleep_ms": N, they take at least N ms, for
the conformance suite); results {"word": "banana", "syllables": 3}, counted by
examples/syllables/count_syllables.py. Needs the stubs protoc makes from proto/
on PYTHONPATH (CMake writes them to build/examples/python-worker/gen).
"""

import argparse
import logging
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "syllables"))

from count_syllables import count_syllables  # noqa: E402
from distributo_worker import Worker  # noqa: E402


def count(payload):
    if not isinstance(payload, dict) or not isinstance(payload.get("word"), str):
        raise ValueError(f"expected {{\"word\": STRING}}, got {payload!r}")
    time.sleep(payload.get("sleep_ms", 0) / 1000)
    return {"word": payload["word"], "syllables": count_syllables(payload["word"])}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--master", default="127.0.0.1:4000", help="HOST:PORT")
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--name", default=None, help="shown in the master's logs")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return Worker(args.master, count, args.concurrency, args.name).run()


if __name__ == "__main__":
    sys.exit(main())
