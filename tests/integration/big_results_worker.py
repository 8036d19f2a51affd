"""A Python worker whose results are large (300 kB each), for the language
worker test: their batches must be split by bytes to stay under the master's
message limit. Usage: big_results_worker.py --master=HOST:PORT"""

import argparse
import logging
import sys

from distributo_worker import Worker


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--master", required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    return Worker(args.master, lambda payload: {"n": payload["n"], "blob": "x" * 300_000},
                  concurrency=4).run()


if __name__ == "__main__":
    sys.exit(main())
