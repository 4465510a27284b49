"""`Plugin`: the object a plugin module makes, whose decorators register its operations."""
import inspect

from dlpx.virtualization.platform._operations import OPERATIONS
from dlpx.virtualization.platform._upgrade import UpgradeOperations
from dlpx.virtualization.platform.exceptions import (
    DecoratorNotFunctionError,
    OperationAlreadyDefinedError,
    OperationNotDefinedError,
)


def _camel(name):
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


class _OperationGroup(object):
    """One group of operations (`plugin.discovery`, `plugin.linked`, `plugin.virtual`)."""

    _group = ""

    def __init__(self):
        self._implementations = {}
        self._unrun = {}

    def _register(self, method):
        operation = "{}.{}".format(self._group, _camel(method))
        label = OPERATIONS[operation][0]

        def decorator(function):
            if not (inspect.isfunction(function) or inspect.ismethod(function)):
                raise DecoratorNotFunctionError(getattr(function, "__name__", repr(function)), label)
            if operation in self._implementations:
                raise OperationAlreadyDefinedError(label)
            self._implementations[operation] = function
            return function

        return decorator

    def _register_unrun(self, method):
        """Decorators of vSDK 5.1 and 5.2 operations dvx never calls (V2P): the function is kept, not run."""
        label = "{}.{}()".format(self._group, method)

        def decorator(function):
            if not (inspect.isfunction(function) or inspect.ismethod(function)):
                raise DecoratorNotFunctionError(getattr(function, "__name__", repr(function)), label)
            if label in self._unrun:
                raise OperationAlreadyDefinedError(label)
            self._unrun[label] = function
            return function

        return decorator

    def _implementation(self, operation):
        if operation not in self._implementations:
            raise OperationNotDefinedError(OPERATIONS[operation][0])
        return self._implementations[operation]


class DiscoveryOperations(_OperationGroup):
    _group = "discovery"

    def repository(self):
        return self._register("repository")

    def source_config(self):
        return self._register("source_config")


class LinkedOperations(_OperationGroup):
    _group = "linked"

    def pre_snapshot(self):
        return self._register("pre_snapshot")

    def post_snapshot(self):
        return self._register("post_snapshot")

    def start_staging(self):
        return self._register("start_staging")

    def stop_staging(self):
        return self._register("stop_staging")

    def status(self):
        return self._register("status")

    def worker(self):
        return self._register("worker")

    def mount_specification(self):
        return self._register("mount_specification")

    def source_size(self):
        return self._register("source_size")

    def source_to_physical(self):
        return self._register_unrun("source_to_physical")

    def pre_source_to_physical(self):
        return self._register_unrun("pre_source_to_physical")


class VirtualOperations(_OperationGroup):
    _group = "virtual"

    def configure(self):
        return self._register("configure")

    def unconfigure(self):
        return self._register("unconfigure")

    def reconfigure(self):
        return self._register("reconfigure")

    def cleanup(self):
        return self._register("cleanup")

    def start(self):
        return self._register("start")

    def stop(self):
        return self._register("stop")

    def pre_snapshot(self):
        return self._register("pre_snapshot")

    def post_snapshot(self):
        return self._register("post_snapshot")

    def mount_specification(self):
        return self._register("mount_specification")

    def status(self):
        return self._register("status")

    def initialize(self):
        return self._register("initialize")

    def source_size(self):
        return self._register("source_size")

    def source_to_physical(self):
        return self._register_unrun("source_to_physical")

    def pre_source_to_physical(self):
        return self._register_unrun("pre_source_to_physical")


class Plugin(object):
    """Make one per plugin (`plugin = Plugin()`) and register operations with its decorators, e.g.
    `@plugin.virtual.configure()`."""

    def __init__(self):
        self.__discovery = DiscoveryOperations()
        self.__linked = LinkedOperations()
        self.__virtual = VirtualOperations()
        self.__upgrade = UpgradeOperations()

    discovery = property(lambda self: self.__discovery)
    linked = property(lambda self: self.__linked)
    virtual = property(lambda self: self.__virtual)
    upgrade = property(lambda self: self.__upgrade)

    def _operations(self):
        """The dvx names of the operations implemented, in the order of OPERATIONS."""
        implemented = {}
        for group in (self.__discovery, self.__linked, self.__virtual):
            implemented.update(group._implementations)
        return [operation for operation in OPERATIONS if operation in implemented]

    def _unrun_operations(self):
        """The vSDK operations implemented that dvx never calls (source_to_physical, pre_source_to_physical)."""
        return sorted(list(self.__linked._unrun) + list(self.__virtual._unrun))

    def _implementation(self, operation):
        """The function registered for a dvx operation name; OperationNotDefinedError if none."""
        group = {"discovery": self.__discovery, "linked": self.__linked, "virtual": self.__virtual}.get(
            operation.split(".")[0]
        )
        if group is None or operation not in OPERATIONS:
            raise OperationNotDefinedError(operation)
        return group._implementation(operation)
