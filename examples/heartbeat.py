"""Heartbeats to health-bridge from Python, standard library only (Python 3.8+).

Copy this file next to a scheduler (CLP's are Python) and:

    from heartbeat import HeartbeatThread

    beats = HeartbeatThread(
        "http://health-bridge:8080", "query-scheduler",
        check=lambda: {"details": {"pending_jobs": len(queue)}},
    )
    beats.start()
    ...
    beats.stop()  # on a graceful shutdown: deregisters, so the instance is gone, not "silent"

The instance defaults to the container's hostname (its short id), so the bridge merges the
heartbeats into that container, replicas included. A `check` that raises reports its message as
the error (unhealthy) instead of going silent. As a command, one heartbeat:

    python3 heartbeat.py --url http://health-bridge:8080 --service reducer [--error "..."]
"""

import argparse
import json
import random
import socket
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone

DEFAULT_URL = "http://health-bridge:8080"


class HeartbeatError(Exception):
    """The bridge refused the request (4xx/5xx) or could not be reached."""

    def __init__(self, message, status=0):
        super().__init__(message)
        self.status = status


def _request(method, url, body=None, token=None, timeout=5.0):
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = "Bearer " + token
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            text = res.read().decode("utf-8")
            return res.status, json.loads(text) if text else None
    except urllib.error.HTTPError as err:
        # The bridge says what is wrong in {"error", "message"}.
        try:
            detail = json.loads(err.read().decode("utf-8")).get("message", "")
        except (ValueError, AttributeError):
            detail = ""
        if method == "DELETE" and err.code == 404:
            return 404, None
        raise HeartbeatError(
            "%s %s: HTTP %d %s" % (method, url, err.code, detail), err.code
        ) from None
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise HeartbeatError("%s %s failed: %s" % (method, url, reason)) from None


def send_heartbeat(
    url=DEFAULT_URL,
    service=None,
    instance=None,
    error=None,
    status=None,
    details=None,
    token=None,
    timeout=5.0,
):
    """Sends one heartbeat; returns the bridge's answer (a dict), raises HeartbeatError.

    status: "healthy", "unhealthy", or "succeeded"/"failed" for a job reporting its end.
    error: what is wrong (at most 1024 characters); implies unhealthy.
    details: a JSON object shown with the instance (at most 4 KiB).
    """
    if not service:
        raise ValueError("service is required")
    body = {
        "service": service,
        "instance": instance or socket.gethostname(),
        "timestamp": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
    }
    if error:
        body["error"] = str(error)[:1024]
    if status:
        body["status"] = status
    if details is not None:
        body["details"] = details
    _, answer = _request("POST", url.rstrip("/") + "/health", body, token, timeout)
    return answer


def deregister(url=DEFAULT_URL, service=None, instance=None, token=None, timeout=5.0):
    """Removes the instance (graceful shutdown). True if it existed, False if already gone."""
    query = urllib.parse.urlencode(
        {"service": service, "instance": instance or socket.gethostname()}
    )
    code, _ = _request(
        "DELETE", url.rstrip("/") + "/health?" + query, None, token, timeout
    )
    return code == 204


class HeartbeatThread(threading.Thread):
    """Beats every `interval` seconds (+/- `jitter`) until stop(); a daemon thread.

    check: optional callable returning a dict with any of "error", "status", "details";
    an exception it raises is reported as the error. on_error: called with a HeartbeatError
    when a beat is not delivered (default: printed to stderr); the next beat retries.
    Keep `interval` at most a third of the bridge's HEARTBEAT_TIMEOUT (default 30 s).
    """

    def __init__(
        self,
        url=DEFAULT_URL,
        service=None,
        instance=None,
        interval=10.0,
        jitter=0.1,
        check=None,
        token=None,
        on_error=None,
        timeout=5.0,
    ):
        super().__init__(name="health-bridge-heartbeat", daemon=True)
        if not service:
            raise ValueError("service is required")
        if interval < 0.1 or not 0 <= jitter < 1:
            raise ValueError("interval must be >= 0.1 s and 0 <= jitter < 1")
        self.url, self.service = url, service
        self.instance = instance or socket.gethostname()
        self.interval, self.jitter = interval, jitter
        self.check, self.token, self.timeout = check, token, timeout
        self.on_error = on_error or (
            lambda err: print("heartbeat: %s" % err, file=sys.stderr)
        )
        self._stopped = threading.Event()

    def beat(self):
        """Sends one heartbeat now with what `check` says; returns the answer or None."""
        report = {}
        if self.check is not None:
            try:
                report = self.check() or {}
            except Exception as err:  # a failing self-check is news, not silence
                report = {"error": str(err) or type(err).__name__}
        try:
            return send_heartbeat(
                self.url,
                self.service,
                self.instance,
                error=report.get("error"),
                status=report.get("status"),
                details=report.get("details"),
                token=self.token,
                timeout=self.timeout,
            )
        except HeartbeatError as err:
            self.on_error(err)
            return None

    def run(self):
        while not self._stopped.is_set():
            self.beat()
            spread = self.interval * self.jitter * (2 * random.random() - 1)
            self._stopped.wait(self.interval + spread)

    def stop(self, deregister_instance=True):
        """Stops beating; deregisters unless told not to. Safe to call more than once."""
        already = self._stopped.is_set()
        self._stopped.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(self.timeout + 1)
        if deregister_instance and not already:
            try:
                deregister(
                    self.url, self.service, self.instance, self.token, self.timeout
                )
            except HeartbeatError as err:
                self.on_error(err)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Send one heartbeat to health-bridge.")
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--service", required=True)
    parser.add_argument("--instance", help="default: this host's name")
    parser.add_argument("--error")
    parser.add_argument(
        "--status", choices=["healthy", "unhealthy", "succeeded", "failed"]
    )
    parser.add_argument("--token")
    parser.add_argument(
        "--deregister", action="store_true", help="remove the instance instead"
    )
    args = parser.parse_args(argv)
    try:
        if args.deregister:
            gone = deregister(args.url, args.service, args.instance, args.token)
            print("deregistered" if gone else "not registered")
        else:
            answer = send_heartbeat(
                args.url,
                args.service,
                args.instance,
                error=args.error,
                status=args.status,
                token=args.token,
            )
            print(json.dumps(answer))
    except HeartbeatError as err:
        print("heartbeat: %s" % err, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
