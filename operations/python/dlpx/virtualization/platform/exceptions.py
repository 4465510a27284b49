"""Exceptions of `dlpx.virtualization.platform`, as the vSDK names them."""
from dlpx.virtualization.common.exceptions import (  # noqa: F401 (re-exported)
    IncorrectTypeError,
    PlatformError,
    PluginRuntimeError,
)

_DEFAULT_ACTION = "Contact the plugin author to correct the error."


class UserError(Exception):
    """A failure the user sees and can act on: `message`, `action` (what to do) and `output` (details, the stack
    trace when left out)."""

    def __init__(self, message, action="", output=""):
        self.message = message
        self.action = action if action else _DEFAULT_ACTION
        self.output = output
        super().__init__(message, self.action, output)


class IncorrectReturnTypeError(PluginRuntimeError):
    """An operation returned something else than what it must return."""

    def __init__(self, operation, actual_type, expected_type):
        from dlpx.virtualization.common.exceptions import _type_name

        super().__init__(
            "The returned object for the {} operation was {} but should be of {}.".format(
                operation, _type_name(actual_type), _type_name(expected_type)
            )
        )


class IncorrectUpgradeObjectTypeError(PluginRuntimeError):
    """An upgrade was asked for an object type that does not exist."""


class IncorrectPluginCodeError(PluginRuntimeError):
    """The plugin's code is not what the platform needs (wrong argument names)."""


class OperationAlreadyDefinedError(PlatformError):
    def __init__(self, operation):
        super().__init__("An implementation for the {} operation has already been defined.".format(operation))


class OperationNotDefinedError(PlatformError):
    def __init__(self, operation):
        super().__init__("An implementation for the {} operation has not been defined.".format(operation))


class DecoratorNotFunctionError(PlatformError):
    def __init__(self, object_name, decorator_name):
        super().__init__(
            "The object '{}' decorated by '{}' is not a function.".format(object_name, decorator_name)
        )


class MigrationIdIncorrectTypeError(PlatformError):
    def __init__(self, migration_id, function_name):
        super().__init__(
            "The migration id '{}' used in the function '{}' should be a string.".format(migration_id, function_name)
        )


class MigrationIdIncorrectFormatError(PlatformError):
    def __init__(self, message):
        super().__init__(message)

    @classmethod
    def from_fields(cls, migration_id, function_name, format_pattern):
        return cls(
            "The migration id '{}' used in the function '{}' does not follow the correct format '{}'.".format(
                migration_id, function_name, format_pattern
            )
        )


class MigrationIdAlreadyUsedError(PlatformError):
    def __init__(self, migration_id, std_migration_id, function_name):
        super().__init__(
            "The migration id '{}' used in the function '{}' has the same canonical form '{}' as another migration.".format(
                migration_id, function_name, std_migration_id
            )
        )


class UnknownMigrationTypeError(PlatformError):
    def __init__(self, migration_type):
        super().__init__(
            "The migration type '{}' is not one of PLATFORM or LUA.".format(migration_type)
        )
