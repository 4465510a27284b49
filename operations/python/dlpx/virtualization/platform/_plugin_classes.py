"""The platform objects operations get and return: sources, mounts, mount specifications, status."""
import enum

from dlpx.virtualization.common._common_classes import RemoteConnection, RemoteEnvironment, _check
from dlpx.virtualization.common.exceptions import IncorrectTypeError


class Status(enum.Enum):
    """What `status` operations return."""

    ACTIVE = 0
    INACTIVE = 1


class MigrationType(object):
    """Kinds of data migration: PLATFORM (the default) and LUA (from a Lua toolkit)."""

    PLATFORM = "PLATFORM"
    LUA = "LUA"


class Mount(object):
    """Engine storage mounted on `remote_environment` at `mount_path`; `shared_path` mounts a sub-directory of it
    instead (virtual sources only)."""

    def __init__(self, remote_environment, mount_path, shared_path=None):
        self._remote_environment = _check(Mount, "remote_environment", remote_environment, RemoteEnvironment)
        self._mount_path = _check(Mount, "mount_path", mount_path, str)
        self._shared_path = _check(Mount, "shared_path", shared_path, str, required=False)

    remote_environment = property(lambda self: self._remote_environment)
    mount_path = property(lambda self: self._mount_path)
    shared_path = property(lambda self: self._shared_path)

    def __repr__(self):
        return "Mount(remote_environment={!r}, mount_path={!r}, shared_path={!r})".format(
            self._remote_environment, self._mount_path, self._shared_path
        )

    @staticmethod
    def _from_engine(value):
        return Mount(
            RemoteEnvironment._from_engine(value["remoteEnvironment"]), value["mountPath"], value.get("sharedPath")
        )

    def _to_engine(self):
        return {
            "remoteEnvironment": self._remote_environment._to_engine(),
            "mountPath": self._mount_path,
            "sharedPath": self._shared_path,
        }


class OwnershipSpecification(object):
    """Who owns the files of the mounted storage: `uid`, `gid`."""

    def __init__(self, uid, gid):
        self._uid = _check(OwnershipSpecification, "uid", uid, int)
        self._gid = _check(OwnershipSpecification, "gid", gid, int)

    uid = property(lambda self: self._uid)
    gid = property(lambda self: self._gid)


class MountSpecification(object):
    """What `mount_specification` operations return: a list of Mount and an optional OwnershipSpecification."""

    def __init__(self, mounts, ownership_specification=None):
        if not isinstance(mounts, list):
            raise IncorrectTypeError(MountSpecification, "mounts", type(mounts), [Mount])
        for mount in mounts:
            if not isinstance(mount, Mount):
                raise IncorrectTypeError(MountSpecification, "mounts", [type(m) for m in mounts], [Mount])
        self._mounts = mounts
        self._ownership_specification = _check(
            MountSpecification, "ownership_specification", ownership_specification, OwnershipSpecification, False
        )

    mounts = property(lambda self: self._mounts)
    ownership_specification = property(lambda self: self._ownership_specification)

    def _to_engine(self):
        ownership = self._ownership_specification
        return {
            "mounts": [mount._to_engine() for mount in self._mounts],
            "ownershipSpecification": None if ownership is None else {"uid": ownership.uid, "gid": ownership.gid},
        }


class DirectSource(object):
    """A direct dSource: `guid`, `connection`, `parameters` (a LinkedSourceDefinition)."""

    def __init__(self, guid, connection, parameters):
        self._guid = _check(DirectSource, "guid", guid, str)
        self._connection = _check(DirectSource, "connection", connection, RemoteConnection)
        self._parameters = parameters

    guid = property(lambda self: self._guid)
    connection = property(lambda self: self._connection)
    parameters = property(lambda self: self._parameters)


class StagedSource(object):
    """A staged dSource: `guid`, `source_connection`, `parameters`, `mount` (the staging mount, None before the mount
    specification is known) and `staged_connection`."""

    def __init__(self, guid, source_connection, parameters, mount, staged_connection):
        self._guid = _check(StagedSource, "guid", guid, str)
        self._source_connection = _check(StagedSource, "source_connection", source_connection, RemoteConnection)
        self._parameters = parameters
        self._mount = _check(StagedSource, "mount", mount, Mount, required=False)
        self._staged_connection = _check(StagedSource, "staged_connection", staged_connection, RemoteConnection)

    guid = property(lambda self: self._guid)
    source_connection = property(lambda self: self._source_connection)
    parameters = property(lambda self: self._parameters)
    mount = property(lambda self: self._mount)
    staged_connection = property(lambda self: self._staged_connection)


class VirtualSource(object):
    """A VDB: `guid`, `connection`, `parameters` (a VirtualSourceDefinition) and `mounts` (in the order of its mount
    specification; empty before it is known)."""

    def __init__(self, guid, connection, parameters, mounts):
        self._guid = _check(VirtualSource, "guid", guid, str)
        self._connection = _check(VirtualSource, "connection", connection, RemoteConnection)
        self._parameters = parameters
        if not isinstance(mounts, list) or not all(isinstance(mount, Mount) for mount in mounts):
            raise IncorrectTypeError(VirtualSource, "mounts", type(mounts), [Mount])
        self._mounts = mounts

    guid = property(lambda self: self._guid)
    connection = property(lambda self: self._connection)
    parameters = property(lambda self: self._parameters)
    mounts = property(lambda self: self._mounts)
