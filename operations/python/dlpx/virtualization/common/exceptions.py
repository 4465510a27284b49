"""Exceptions shared by the platform and the libraries, as the vSDK's `dlpx.virtualization.common.exceptions`."""


def _type_name(value_type):
    if isinstance(value_type, (list, tuple)):
        return "any one of [{}]".format(", ".join("'{}'".format(_class_name(t)) for t in value_type))
    if isinstance(value_type, dict):
        key, value = next(iter(value_type.items()))
        return "type 'dict of {}:{}'".format(_class_name(key), _class_name(value))
    return "type '{}'".format(_class_name(value_type))


def _class_name(value_type):
    if isinstance(value_type, type):
        module = value_type.__module__
        return value_type.__name__ if module == "builtins" else "{}.{}".format(module, value_type.__name__)
    return str(value_type)


class PluginRuntimeError(Exception):
    """An error in plugin code the plugin author can fix (a wrong type given to a platform class, a wrong return
    type). The plugin may catch it."""

    def __init__(self, message):
        super().__init__(message)

    @property
    def message(self):
        return self.args[0]


class PlatformError(Exception):
    """A fault of the platform or of how it is used that plugin code cannot handle (an operation defined twice, a bad
    migration id)."""

    def __init__(self, message):
        super().__init__(message)

    @property
    def message(self):
        return self.args[0]


class IncorrectTypeError(PluginRuntimeError):
    """A platform class was given a value of the wrong type: "Mount's parameter 'mount_path' was type 'int' but should
    be of type 'str'."."""

    def __init__(self, object_type, parameter_name, actual_type, expected_type, required=True):
        message = "{}'s parameter '{}' was {} but should be of {}{}.".format(
            object_type.__name__,
            parameter_name,
            _type_name(actual_type),
            _type_name(expected_type),
            "" if required else " if defined",
        )
        super().__init__(message)


class IncorrectReferenceFormatError(PluginRuntimeError):
    """A reference string is not in the platform's format."""
