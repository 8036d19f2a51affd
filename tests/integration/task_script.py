"""A worker command for the integration tests, for --exec_mode lines or per_task.

Reads one JSON payload per line: {"n": N, "fail": "never"|"first"|"always",
"fail_until": PATH, "sleep": SECONDS, "poison": true}, and answers {"n": N,
"square": N*N} on one line. A failing task writes a message to stderr and
exits with status 1; "first" fails only on the first attempt
(DISTRIBUTO_ATTEMPT, set by distributo-worker), "fail_until" while no file
is at PATH. A poison task kills the distributo-worker running the
script (its nearest such ancestor) with SIGKILL, every time.
"""
import json
import os
import signal
import sys
import time


def running_worker():
    """The PID of the distributo-worker above this process, or None."""
    pid = os.getppid()
    for _ in range(8):
        with open(f"/proc/{pid}/comm") as comm:
            if comm.read().startswith("distributo-wor"):
                return pid
        with open(f"/proc/{pid}/stat") as stat:
            pid = int(stat.read().rsplit(")", 1)[1].split()[1])
    return None


for line in sys.stdin:
    task = json.loads(line)
    if task.get("poison"):
        os.kill(running_worker(), signal.SIGKILL)
        sys.exit(1)
    if task.get("sleep"):
        time.sleep(task["sleep"])
    fail = task.get("fail", "never")
    attempt = int(os.environ.get("DISTRIBUTO_ATTEMPT", "1"))
    missing = "fail_until" in task and not os.path.exists(task["fail_until"])
    if fail == "always" or (fail == "first" and attempt == 1) or missing:
        sys.stderr.write(f"task {task['n']} failed on attempt {attempt}\n")
        sys.exit(1)
    print(json.dumps({"n": task["n"], "square": task["n"] ** 2}), flush=True)
