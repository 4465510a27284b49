"""The platform: `Plugin` and the objects operations get and return (`from dlpx.virtualization.platform import ...`)."""
from dlpx.virtualization.platform._plugin import Plugin
from dlpx.virtualization.platform._plugin_classes import (
    DirectSource,
    MigrationType,
    Mount,
    MountSpecification,
    OwnershipSpecification,
    StagedSource,
    Status,
    VirtualSource,
)
from dlpx.virtualization.platform import exceptions

__all__ = [
    "Plugin",
    "DirectSource",
    "MigrationType",
    "Mount",
    "MountSpecification",
    "OwnershipSpecification",
    "StagedSource",
    "Status",
    "VirtualSource",
    "exceptions",
]
