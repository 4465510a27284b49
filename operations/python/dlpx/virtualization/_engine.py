"""The channel from plugin code to the dvx engine.

The runner installs a channel before an operation runs; the platform libraries (`libs`) and `PlatformHandler` go
through it. Outside an operation (at import, in unit tests without a channel) every call fails with a
PluginRuntimeError that says so.
"""

_channel = None


class EngineError(Exception):
    """What a channel raises when the engine answered a platform call with an error: `error` is the engine's
    serialized error (code, message, retryable, action, details). The libraries turn it into a LibraryError."""

    def __init__(self, error):
        self.error = error
        super().__init__(error.get("message", ""))


def install(channel):
    """Installs `channel`: an object with `call(method, params)` (returns the engine's value or raises) and
    `log(level, message, fields)`. Returns the channel installed before (None if none)."""
    global _channel
    previous = _channel
    _channel = channel
    return previous


def _installed(library):
    if _channel is None:
        from dlpx.virtualization.common.exceptions import PluginRuntimeError

        raise PluginRuntimeError(
            "{} works only inside a plugin operation run by the dvx engine (not at import time, not outside dvx).".format(
                library
            )
        )
    return _channel


def call(method, params):
    """A platform call (`runBash`, `runExpect`, `runSync`, `retrieveCredentials`): the engine's answer."""
    return _installed(method).call(method, params)


def log(level, message, fields=None):
    """One line of the operation's log (`debug`, `info`, `warn`, `error`)."""
    _installed("logging").log(level, message, fields or {})


def installed():
    """Whether a channel is installed."""
    return _channel is not None
