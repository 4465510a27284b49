"""How dvx calls a Python plugin's operation: the engine's JSON arguments become the vSDK's objects, the function is
called with keyword arguments by the names it declares, and its return value, checked, becomes JSON again."""
import inspect
import sys

from dlpx.virtualization.common._common_classes import RemoteConnection
from dlpx.virtualization.platform._operations import OPERATIONS, SNAPSHOT_PARAMETERS_NAMES
from dlpx.virtualization.platform._plugin_classes import (
    DirectSource,
    Mount,
    MountSpecification,
    StagedSource,
    Status,
    VirtualSource,
)
from dlpx.virtualization.platform.exceptions import IncorrectPluginCodeError, IncorrectReturnTypeError


def _definitions():
    module = sys.modules.get("generated.definitions")
    if module is None:
        raise IncorrectPluginCodeError("The plugin's generated definitions are not installed.")
    return module


def _definition(name, value):
    if value is None:
        return None
    return getattr(_definitions(), name).from_dict(value)


def _staged_source(value):
    mount = value.get("mount")
    return StagedSource(
        value["guid"],
        RemoteConnection._from_engine(value["sourceConnection"]),
        _definition("LinkedSourceDefinition", value.get("parameters")),
        None if mount is None else Mount._from_engine(mount),
        RemoteConnection._from_engine(value["stagedConnection"]),
    )


def _direct_source(value):
    return DirectSource(
        value["guid"],
        RemoteConnection._from_engine(value["connection"]),
        _definition("LinkedSourceDefinition", value.get("parameters")),
    )


def _virtual_source(value):
    return VirtualSource(
        value["guid"],
        RemoteConnection._from_engine(value["connection"]),
        _definition("VirtualSourceDefinition", value.get("parameters")),
        [Mount._from_engine(mount) for mount in value.get("mounts") or []],
    )


def arguments(operation, args, plugin_type):
    """The vSDK arguments of `operation` (by their vSDK names) from the engine's JSON arguments."""
    values = {}
    for name in OPERATIONS[operation][1]:
        if name == "source":
            if plugin_type == "DIRECT":
                values["direct_source"] = _direct_source(args["directSource"])
            else:
                values["staged_source"] = _staged_source(args["stagedSource"])
        elif name == "source_connection":
            values[name] = RemoteConnection._from_engine(args["sourceConnection"])
        elif name == "virtual_source":
            values[name] = _virtual_source(args["virtualSource"])
        elif name == "repository":
            values[name] = _definition("RepositoryDefinition", args.get("repository"))
        elif name == "source_config":
            values[name] = _definition("SourceConfigDefinition", args.get("sourceConfig"))
        elif name == "snapshot":
            values[name] = _definition("SnapshotDefinition", args.get("snapshot"))
        elif name == "optional_snapshot_parameters":
            values[name] = _definition("SnapshotParametersDefinition", args.get("snapshotParameters"))
    return values


def expected_names(operation, plugin_type):
    """The argument names the vSDK expects of `operation`'s function."""
    source = "direct_source" if plugin_type == "DIRECT" else "staged_source"
    return [source if name == "source" else name for name in OPERATIONS[operation][1]]


def keyword_arguments(function, operation, values, plugin_type):
    """`values` under the names `function` declares. Refuses a function whose arguments are not the operation's
    (IncorrectPluginCodeError naming the expected ones); the snapshot parameters may be called `snapshot_parameters`."""
    expected = expected_names(operation, plugin_type)
    declared = [
        p.name
        for p in inspect.signature(function).parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    accepts_any = any(p.kind == p.VAR_KEYWORD for p in inspect.signature(function).parameters.values())
    kwargs = {}
    for name in declared:
        if name in values:
            kwargs[name] = values[name]
        elif name in SNAPSHOT_PARAMETERS_NAMES and "optional_snapshot_parameters" in values:
            kwargs[name] = values["optional_snapshot_parameters"]
    wrong = [name for name in declared if name not in kwargs]
    missing = [
        name
        for name in expected
        if name not in kwargs
        and not (name == "optional_snapshot_parameters" and any(n in kwargs for n in SNAPSHOT_PARAMETERS_NAMES))
    ]
    if (wrong or missing) and not accepts_any:
        raise IncorrectPluginCodeError(
            "The function {} of the {} operation declares the arguments ({}) but must declare ({}).".format(
                function.__name__, OPERATIONS[operation][0], ", ".join(declared), ", ".join(expected)
            )
        )
    if accepts_any:
        kwargs = dict(values)
    return kwargs


def _check_instance(operation, value, class_name):
    cls = getattr(_definitions(), class_name)
    if not isinstance(value, cls):
        raise IncorrectReturnTypeError(OPERATIONS[operation][0], type(value), cls)
    return value.to_dict()


def result(operation, value):
    """The engine's JSON of what `operation` returned, after the vSDK's return type checks."""
    name = operation.split(".")[1]
    if operation in ("discovery.repository", "discovery.sourceConfig"):
        class_name = "RepositoryDefinition" if operation == "discovery.repository" else "SourceConfigDefinition"
        cls = getattr(_definitions(), class_name)
        if not isinstance(value, list):
            raise IncorrectReturnTypeError(OPERATIONS[operation][0], type(value), [cls])
        if not all(isinstance(item, cls) for item in value):
            raise IncorrectReturnTypeError(OPERATIONS[operation][0], [type(item) for item in value], [cls])
        return [item.to_dict() for item in value]
    if name == "postSnapshot":
        return _check_instance(operation, value, "SnapshotDefinition")
    if name in ("configure", "reconfigure", "initialize"):
        return _check_instance(operation, value, "SourceConfigDefinition")
    if name == "mountSpecification":
        if not isinstance(value, MountSpecification):
            raise IncorrectReturnTypeError(OPERATIONS[operation][0], type(value), MountSpecification)
        return value._to_engine()
    if name == "status":
        if not isinstance(value, Status):
            raise IncorrectReturnTypeError(OPERATIONS[operation][0], type(value), Status)
        return value.name
    if name == "sourceSize":
        return value
    return None


def invoke(plugin, operation, args, plugin_type):
    """Runs `operation` of `plugin` on the engine's JSON `args`; returns the engine's JSON of its result."""
    function = plugin._implementation(operation)
    values = arguments(operation, args, plugin_type)
    return result(operation, function(**keyword_arguments(function, operation, values, plugin_type)))
