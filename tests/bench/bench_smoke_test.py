#!/usr/bin/env python3
"""Runs each measurement of distributo-bench once, small, and checks that it
reports what docs/performance.md quotes: the benchmark must keep working as
the master changes. It asserts no speed: that is the benchmark's own job.

Usage: bench_smoke_test.py DISTRIBUTO_BENCH
"""
import json
import os
import subprocess
import sys
import tempfile

BENCH = sys.argv[1]


def run(*flags):
    done = subprocess.run([BENCH, "--json", "--timeout=120s", *flags],
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        sys.exit(f"distributo-bench {' '.join(flags)} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def expect(condition, what, result):
    if not condition:
        sys.exit(f"{what}: {json.dumps(result)}")


def check_job(result, tasks):
    expect(result["tasks"] == tasks, "every task ran", result)
    expect(result["lost"] == 0 and result["duplicates"] == 0,
           "nothing lost or handled twice", result)
    for key in ("tasks_per_s", "raw_limit_per_s", "ratio",
                "p99_enqueue_to_lease_us", "master_rss_mb",
                "master_lease_to_result_p99_us", "master_cpu_s_per_million"):
        expect(result[key] > 0, f"{key} is measured", result)
    # The ratio is rounded to 3 places from the unrounded rates, which are
    # printed as whole numbers: it may differ from theirs in the last place.
    expect(abs(result["ratio"] - result["tasks_per_s"] /
               result["raw_limit_per_s"]) <= 0.001,
           "the ratio is master over raw", result)


in_memory = run("--workers=2", "--batch=10", "--tasks=3000")
check_job(in_memory, 3000)
expect("disk_sync_p99_us" not in in_memory, "no disk without a journal",
       in_memory)
with tempfile.TemporaryDirectory() as work:
    journal = os.path.join(work, "bench.journal")
    journaled = run("--workers=2", "--batch=100", "--tasks=3000",
                    f"--journal={journal}")
    check_job(journaled, 3000)
    expect(journaled["restart_recover_ms"] > 0, "a restart is timed",
           journaled)
    expect(0 < journaled["disk_sync_p50_us"] <= journaled["disk_sync_p99_us"],
           "the disk's syncs are timed", journaled)
    expect(os.listdir(work) == [], "the journal and the sync probe's file "
           "are removed", {"left": os.listdir(work)})
check_job(run("--workers=1", "--batch=100", "--tasks=500", "--rate=2000"),
          500)

pending = run("--pending=20000")
expect(pending["rss_after_mb"] > pending["rss_before_mb"],
       "pending tasks take memory", pending)
expect(pending["bytes_per_pending_task"] > 0, "bytes per task", pending)

streams = run("--idle_streams=64")
expect(streams["idle_streams"] == 64, "every session", streams)
expect(streams["first_batch_max_ms"] > 0, "each got a batch", streams)
print("bench smoke test: ok")
