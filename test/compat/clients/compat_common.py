"""Shared plumbing of the Python scenario scripts: read the spec the runner
wrote, run each task with a time limit, print one `@@ {json}` line per task.
The scripts only observe; test/compat/run.mjs judges."""
import json
import math
import os
import signal
import sys
import time
import traceback


def load_spec():
    with open(os.environ["COMPAT_SPEC"], encoding="utf-8") as f:
        return json.load(f)


def report(task_id, **result):
    sys.stdout.write("@@ " + json.dumps(dict(id=task_id, **result)) + "\n")
    sys.stdout.flush()


class TaskTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise TaskTimeout("timed out")


def run_tasks(spec, impl, cleanup=lambda: None):
    signal.signal(signal.SIGALRM, _alarm)
    for task in spec["tasks"]:
        started = time.monotonic()
        fn = impl.get(task["kind"])
        signal.alarm(math.ceil(task["timeoutMs"] / 1000))
        try:
            if fn is None:
                raise RuntimeError("this script has no '%s' scenario" % task["kind"])
            data = fn(task) or {}
            signal.alarm(0)
            report(task["id"], ok=True, data=data, ms=int((time.monotonic() - started) * 1000))
        except BaseException as err:  # noqa: B036 -- a scenario must never stop the others
            signal.alarm(0)
            detail = "%s: %s" % (type(err).__name__, err)
            if not isinstance(err, (TaskTimeout, AssertionError)):
                sys.stderr.write(traceback.format_exc())
            report(task["id"], ok=False, error=detail, ms=int((time.monotonic() - started) * 1000))
    try:
        cleanup()
    finally:
        sys.stdout.flush()
        os._exit(0)


def text(b):
    if b is None:
        return None
    if isinstance(b, (bytes, bytearray)):
        return bytes(b).decode("utf-8", errors="replace")
    return str(b)


def until(check, seconds, what):
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise TaskTimeout("timed out after %ss waiting for %s" % (seconds, what))
