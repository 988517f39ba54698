#!/usr/bin/env python3
"""A persistent taskq handler: taskq work --persistent -- python3 examples/handlers/handler.py"""
import base64, json, sys

def handle(task, body):
    """Your work. Return None when done; raise ValueError for a task that can never succeed."""
    if body.startswith(b"fail"):
        raise RuntimeError("asked to fail")
    print(f"task {task['id']} attempt {task['attempt']}: {len(body)} bytes", file=sys.stderr)

def answer(task, outcome, reason=""):  # echoes the task's seq: the answer is that task's
    sys.stdout.write(json.dumps({"seq": task["seq"], "outcome": outcome, "reason": reason}) + "\n")
    sys.stdout.flush()

# Slow set-up (imports, connections, models) goes here, once per process.
print("taskq-handler 1", flush=True)  # the handshake: ready for tasks
for line in sys.stdin:  # one task per line; the input's end means exit
    task = json.loads(line)
    try:
        handle(task, base64.b64decode(task["body"]))
        answer(task, "done")
    except ValueError as err:
        answer(task, "dead", str(err))  # failed for good: straight to <queue>.dead
    except Exception as err:
        answer(task, "failed", f"{type(err).__name__}: {err}")  # retried later
