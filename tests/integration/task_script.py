"""A worker command for the integration tests, for --exec_mode lines or per_task.

Reads one JSON payload per line: {"n": N, "fail": "never"|"first"|"always",
"sleep": SECONDS}, and answers {"n": N, "square": N*N} on one line. A failing
task writes a message to stderr and exits with status 1; "first" fails only
on the first attempt (DISTRIBUTO_ATTEMPT, set by distributo-worker).
"""
import json
import os
import sys
import time

for line in sys.stdin:
    task = json.loads(line)
    if task.get("sleep"):
        time.sleep(task["sleep"])
    fail = task.get("fail", "never")
    attempt = int(os.environ.get("DISTRIBUTO_ATTEMPT", "1"))
    if fail == "always" or (fail == "first" and attempt == 1):
        sys.stderr.write(f"task {task['n']} failed on attempt {attempt}\n")
        sys.exit(1)
    print(json.dumps({"n": task["n"], "square": task["n"] ** 2}), flush=True)
