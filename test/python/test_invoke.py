"""How an operation is called: engine JSON to vSDK objects, keyword arguments by declared names, return checks."""
import unittest

import support

from dlpx.virtualization import _generated
from dlpx.virtualization.platform import Mount, MountSpecification, OwnershipSpecification, Plugin, Status
from dlpx.virtualization.platform import _invoke
from dlpx.virtualization.platform.exceptions import (
    IncorrectPluginCodeError,
    IncorrectReturnTypeError,
    OperationNotDefinedError,
)

SCHEMAS = {
    "repositoryDefinition": {"type": "object", "properties": {"name": {"type": "string"}}},
    "sourceConfigDefinition": {"type": "object", "properties": {"path": {"type": "string"}}},
    "linkedSourceDefinition": {"type": "object", "properties": {"mountLocation": {"type": "string"}}},
    "virtualSourceDefinition": {"type": "object", "properties": {"mountLocation": {"type": "string"}}},
    "snapshotDefinition": {"type": "object", "properties": {"taken": {"type": "string"}}},
    "snapshotParametersDefinition": {"type": "object", "properties": {"resync": {"type": "boolean"}}},
}


def staged_source(mount=True):
    value = {
        "guid": "ds-1",
        "sourceConnection": support.connection_json("env-src"),
        "stagedConnection": support.connection_json("env-stg"),
        "parameters": {"mountLocation": "/mnt/stage"},
    }
    if mount:
        value["mount"] = {"remoteEnvironment": support.environment_json("env-stg"), "mountPath": "/mnt/stage", "sharedPath": None}
    return value


def virtual_source():
    return {
        "guid": "vdb-1",
        "connection": support.connection_json("env-tgt"),
        "parameters": {"mountLocation": "/mnt/vdb"},
        "mounts": [{"remoteEnvironment": support.environment_json("env-tgt"), "mountPath": "/mnt/vdb", "sharedPath": None}],
    }


class InvokeTest(unittest.TestCase):
    def setUp(self):
        self.definitions = _generated.install(SCHEMAS)
        self.plugin = Plugin()

    def test_snapshot_parameters_under_either_name_and_null_stays_none(self):
        seen = []

        @self.plugin.linked.pre_snapshot()
        def old_style(staged_source, repository, source_config, snapshot_parameters):
            seen.append(snapshot_parameters)

        @self.plugin.linked.post_snapshot()
        def new_style(staged_source, repository, source_config, optional_snapshot_parameters):
            seen.append(optional_snapshot_parameters)
            return self.definitions.SnapshotDefinition(taken="now")

        args = {"stagedSource": staged_source(), "repository": {"name": "r"}, "sourceConfig": {"path": "/d"}}
        self.assertIsNone(_invoke.invoke(self.plugin, "linked.preSnapshot", dict(args, snapshotParameters=None), "STAGED"))
        result = _invoke.invoke(self.plugin, "linked.postSnapshot", dict(args, snapshotParameters={"resync": True}), "STAGED")
        self.assertEqual(result, {"taken": "now"})
        self.assertIsNone(seen[0])
        self.assertEqual(seen[1].resync, True)

    def test_arguments_become_vsdk_objects(self):
        @self.plugin.linked.mount_specification()
        def linked_mount_specification(staged_source, repository):
            self.assertEqual(staged_source.parameters.mount_location, "/mnt/stage")
            self.assertIsNone(staged_source.mount)
            self.assertEqual(staged_source.staged_connection.environment.reference, "env-stg")
            self.assertEqual(repository.name, "r")
            mount = Mount(staged_source.staged_connection.environment, staged_source.parameters.mount_location)
            return MountSpecification([mount], OwnershipSpecification(1000, 1001))

        result = _invoke.invoke(
            self.plugin,
            "linked.mountSpecification",
            {"stagedSource": staged_source(mount=False), "repository": {"name": "r"}},
            "STAGED",
        )
        self.assertEqual(
            result,
            {
                "mounts": [{"remoteEnvironment": support.environment_json("env-stg"), "mountPath": "/mnt/stage", "sharedPath": None}],
                "ownershipSpecification": {"uid": 1000, "gid": 1001},
            },
        )

    def test_virtual_operations_and_returns(self):
        @self.plugin.virtual.configure()
        def configure(virtual_source, snapshot, repository):
            return self.definitions.SourceConfigDefinition(path=virtual_source.mounts[0].mount_path + snapshot.taken)

        @self.plugin.virtual.status()
        def status(virtual_source, repository, source_config):
            return Status.INACTIVE

        args = {"virtualSource": virtual_source(), "repository": {"name": "r"}, "snapshot": {"taken": "/t"}}
        self.assertEqual(_invoke.invoke(self.plugin, "virtual.configure", args, "STAGED"), {"path": "/mnt/vdb/t"})
        args = {"virtualSource": virtual_source(), "repository": {"name": "r"}, "sourceConfig": {"path": "/p"}}
        self.assertEqual(_invoke.invoke(self.plugin, "virtual.status", args, "STAGED"), "INACTIVE")

    def test_discovery_returns_lists_of_definitions(self):
        @self.plugin.discovery.repository()
        def repository_discovery(source_connection):
            return [self.definitions.RepositoryDefinition(name=source_connection.environment.host.name)]

        @self.plugin.discovery.source_config()
        def source_config_discovery(source_connection, repository):
            return self.definitions.SourceConfigDefinition(path="/x")

        args = {"sourceConnection": support.connection_json(), "repository": {"name": "r"}}
        self.assertEqual(_invoke.invoke(self.plugin, "discovery.repository", args, "DIRECT"), [{"name": "host1"}])
        with self.assertRaises(IncorrectReturnTypeError) as raised:
            _invoke.invoke(self.plugin, "discovery.sourceConfig", args, "DIRECT")
        self.assertIn("discovery.source_config()", str(raised.exception))

    def test_wrong_return_types_are_refused(self):
        @self.plugin.virtual.post_snapshot()
        def post_snapshot(virtual_source, repository, source_config):
            return {"taken": "now"}

        @self.plugin.virtual.mount_specification()
        def mount_specification(virtual_source, repository):
            return [Mount(virtual_source.connection.environment, "/m")]

        args = {"virtualSource": virtual_source(), "repository": {}, "sourceConfig": {}}
        with self.assertRaises(IncorrectReturnTypeError):
            _invoke.invoke(self.plugin, "virtual.postSnapshot", args, "STAGED")
        with self.assertRaises(IncorrectReturnTypeError):
            _invoke.invoke(self.plugin, "virtual.mountSpecification", args, "STAGED")

    def test_wrong_argument_names_are_refused(self):
        @self.plugin.virtual.stop()
        def stop(source, repository, config):
            pass

        args = {"virtualSource": virtual_source(), "repository": {}, "sourceConfig": {}}
        with self.assertRaises(IncorrectPluginCodeError) as raised:
            _invoke.invoke(self.plugin, "virtual.stop", args, "STAGED")
        self.assertIn("must declare (virtual_source, repository, source_config)", str(raised.exception))

    def test_direct_source(self):
        @self.plugin.linked.pre_snapshot()
        def pre_snapshot(direct_source, repository, source_config, optional_snapshot_parameters):
            self.assertEqual(direct_source.connection.environment.reference, "env-1")

        args = {
            "directSource": {"guid": "ds", "connection": support.connection_json(), "parameters": {}},
            "repository": {},
            "sourceConfig": {},
            "snapshotParameters": None,
        }
        self.assertIsNone(_invoke.invoke(self.plugin, "linked.preSnapshot", args, "DIRECT"))

    def test_a_missing_operation(self):
        with self.assertRaises(OperationNotDefinedError):
            _invoke.invoke(self.plugin, "virtual.start", {}, "STAGED")


if __name__ == "__main__":
    unittest.main()
