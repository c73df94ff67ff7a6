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


def security_steps(task, round_trip, refused):
    """A security row (tls, sasl-plain, sasl-scram, acl): each step either produces its messages and reads
    them back (round_trip(step) returns what it read) or, where the broker must refuse it, tries to produce
    (refused(step) returns the error the client gave, or {refused, hidden} when the client cannot show it).
    One result per step: {label, read} or {label, error}."""
    steps = []
    for step in task["steps"]:
        try:
            if step["expect"] == "ok":
                steps.append({"label": step["label"], "read": round_trip(step)})
            else:
                got = refused(step)
                steps.append(dict({"label": step["label"]}, **got) if isinstance(got, dict) else {"label": step["label"], "error": got})
        except Exception as err:  # noqa: BLE001 -- reported, judged by the runner
            steps.append({"label": step["label"], "error": "%s: %s" % (type(err).__name__, err)})
    return {"steps": steps}


def rdkafka_security(conn):
    """A step's connection as librdkafka properties (security.protocol, ssl.ca.location, sasl.*)."""
    props = {"security.protocol": conn["protocol"].lower()}
    if conn.get("ca"):
        props["ssl.ca.location"] = conn["ca"]
    if conn.get("mechanism"):
        props.update({"sasl.mechanisms": conn["mechanism"], "sasl.username": conn["username"], "sasl.password": conn["password"]})
    return props
