"""Exceptions of the platform libraries, as the vSDK's `dlpx.virtualization.libs.exceptions`."""
from dlpx.virtualization.common.exceptions import PluginRuntimeError, _type_name


class LibraryError(Exception):
    """The engine could not do what a library call asked (a host unreachable, a timeout, a refused reference). The
    plugin may catch it; let escape, the operation fails with the engine's error (`code`, and `retryable` decides
    whether the engine retries). `id` is the engine's error code."""

    def __init__(self, id, message, error=None):
        self.id = id
        self.message = message
        self.error = error or {"code": id, "message": message}
        super().__init__(message)

    @property
    def code(self):
        return self.id

    @property
    def retryable(self):
        return bool(self.error.get("retryable", False))

    @property
    def action(self):
        return self.error.get("action")


class PluginScriptError(Exception):
    """A command run with `check=True` exited non-zero; the message has its exit code, stdout and stderr."""

    def __init__(self, message, exit_code=None, stdout=None, stderr=None):
        self.message = message
        self.exit_code = exit_code
        self.stdout = stdout
        self.stderr = stderr
        super().__init__(message)


class IncorrectArgumentTypeError(PluginRuntimeError):
    """A library function was given an argument of the wrong type: "The function run_bash's argument 'command' was
    type 'int' but should be of type 'str'."."""

    def __init__(self, function_name, parameter_name, actual_type, expected_type, required=True):
        super().__init__(
            "The function {}'s argument '{}' was {} but should be of {}{}.".format(
                function_name,
                parameter_name,
                _type_name(actual_type),
                _type_name(expected_type),
                "" if required else " if defined",
            )
        )
