"""Helpers of the dlpx.virtualization unit tests: the package on sys.path, engine JSON, a recording channel."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "operations", "python"))

from dlpx.virtualization import _engine  # noqa: E402


def environment_json(reference="env-1", hostname="host1"):
    return {
        "name": "staging",
        "reference": reference,
        "host": {"hostname": hostname, "scratchPath": "/var/tmp/dvx", "binaryPath": "/opt/dvx/bin"},
    }


def connection_json(reference="env-1", user="user-1"):
    return {"environment": environment_json(reference), "user": {"name": "delphix", "reference": user}}


class RecordingChannel(object):
    """Answers platform calls with `answers[method]` (a value, or an exception to raise) and records them."""

    def __init__(self, answers=None):
        self.answers = answers or {}
        self.calls = []
        self.logs = []

    def call(self, method, params):
        self.calls.append((method, params))
        answer = self.answers.get(method)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def log(self, level, message, fields):
        self.logs.append((level, message, fields))


class ChannelTest(object):
    """Mixin: installs a RecordingChannel as self.channel for each test."""

    answers = None

    def setUp(self):
        self.channel = RecordingChannel(dict(self.answers or {}))
        self.previous = _engine.install(self.channel)

    def tearDown(self):
        _engine.install(self.previous)
