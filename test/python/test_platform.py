"""dlpx.virtualization.platform: decorators, platform classes and migrations as the vSDK documents them."""
import unittest

import support  # noqa: F401

from dlpx.virtualization.common import RemoteConnection, RemoteEnvironment, RemoteHost, RemoteUser
from dlpx.virtualization.common.exceptions import IncorrectTypeError, PlatformError, PluginRuntimeError
from dlpx.virtualization.platform import (
    MigrationType,
    Mount,
    MountSpecification,
    OwnershipSpecification,
    Plugin,
    Status,
    VirtualSource,
)
from dlpx.virtualization.platform import exceptions


def environment():
    return RemoteEnvironment("staging", "env-1", RemoteHost("host1", "host-1", "/opt/bin", "/var/tmp"))


class DecoratorTest(unittest.TestCase):
    def test_every_operation_registers_and_is_listed(self):
        plugin = Plugin()
        groups = {
            plugin.discovery: ["repository", "source_config"],
            plugin.linked: [
                "pre_snapshot",
                "post_snapshot",
                "start_staging",
                "stop_staging",
                "status",
                "worker",
                "mount_specification",
                "source_size",
            ],
            plugin.virtual: [
                "configure",
                "unconfigure",
                "reconfigure",
                "cleanup",
                "start",
                "stop",
                "pre_snapshot",
                "post_snapshot",
                "mount_specification",
                "status",
                "initialize",
                "source_size",
            ],
        }
        for group, names in groups.items():
            for name in names:
                def operation():
                    return name

                self.assertIs(getattr(group, name)()(operation), operation)
        self.assertEqual(len(plugin._operations()), 22)
        self.assertIn("linked.mountSpecification", plugin._operations())
        self.assertIn("virtual.initialize", plugin._operations())

    def test_only_implemented_operations_are_listed(self):
        plugin = Plugin()

        @plugin.discovery.repository()
        def repository_discovery(source_connection):
            return []

        @plugin.virtual.configure()
        def configure(virtual_source, snapshot, repository):
            return None

        self.assertEqual(plugin._operations(), ["discovery.repository", "virtual.configure"])
        self.assertIs(plugin._implementation("virtual.configure"), configure)
        with self.assertRaises(exceptions.OperationNotDefinedError) as raised:
            plugin._implementation("virtual.reconfigure")
        self.assertIn("virtual.reconfigure()", str(raised.exception))

    def test_an_operation_defined_twice_is_refused(self):
        plugin = Plugin()

        @plugin.linked.post_snapshot()
        def first(staged_source, repository, source_config, optional_snapshot_parameters):
            pass

        with self.assertRaises(exceptions.OperationAlreadyDefinedError) as raised:

            @plugin.linked.post_snapshot()
            def second(staged_source, repository, source_config, optional_snapshot_parameters):
                pass

        self.assertIsInstance(raised.exception, PlatformError)
        self.assertEqual(
            str(raised.exception),
            "An implementation for the linked.post_snapshot() operation has already been defined.",
        )

    def test_decorating_something_else_than_a_function_is_refused(self):
        plugin = Plugin()
        with self.assertRaises(exceptions.DecoratorNotFunctionError) as raised:
            plugin.virtual.configure()("not a function")
        self.assertIn("virtual.configure()", str(raised.exception))

    def test_v2p_operations_are_kept_but_not_listed(self):
        plugin = Plugin()

        @plugin.virtual.source_to_physical()
        def export(virtual_source, repository, source_config, physical_source):
            pass

        plugin.linked.pre_source_to_physical()(lambda staged_source: None)
        self.assertEqual(plugin._operations(), [])
        self.assertEqual(
            plugin._unrun_operations(), ["linked.pre_source_to_physical()", "virtual.source_to_physical()"]
        )
        with self.assertRaises(exceptions.OperationAlreadyDefinedError):
            plugin.virtual.source_to_physical()(export)

    def test_two_plugins_do_not_share_operations(self):
        first, second = Plugin(), Plugin()
        first.virtual.stop()(lambda virtual_source, repository, source_config: None)
        self.assertEqual(second._operations(), [])


class PlatformClassesTest(unittest.TestCase):
    def test_mount_and_specification(self):
        mount = Mount(environment(), "/mnt/data", "sub")
        spec = MountSpecification([mount], OwnershipSpecification(1000, 1000))
        self.assertEqual(spec.mounts[0].mount_path, "/mnt/data")
        self.assertEqual(spec.mounts[0].shared_path, "sub")
        self.assertEqual(spec.ownership_specification.uid, 1000)
        self.assertIsNone(Mount(environment(), "/m").shared_path)
        self.assertIsNone(MountSpecification([mount]).ownership_specification)

    def test_wrong_types_raise_incorrect_type_error(self):
        with self.assertRaises(IncorrectTypeError) as raised:
            Mount(environment(), 5)
        self.assertIsInstance(raised.exception, PluginRuntimeError)
        self.assertEqual(
            str(raised.exception), "Mount's parameter 'mount_path' was type 'int' but should be of type 'str'."
        )
        with self.assertRaises(IncorrectTypeError):
            Mount("env-1", "/m")
        with self.assertRaises(IncorrectTypeError):
            MountSpecification(Mount(environment(), "/m"))
        with self.assertRaises(IncorrectTypeError):
            MountSpecification(["/m"])
        with self.assertRaises(IncorrectTypeError):
            OwnershipSpecification("1000", 1000)
        with self.assertRaises(IncorrectTypeError):
            OwnershipSpecification(True, 1000)
        with self.assertRaises(IncorrectTypeError):
            RemoteConnection(environment(), "user")

    def test_remote_objects(self):
        user = RemoteUser("delphix", "user-1")
        connection = RemoteConnection(environment(), user)
        self.assertEqual(connection.environment.host.scratch_path, "/var/tmp")
        self.assertEqual(connection.environment.host.binary_path, "/opt/bin")
        self.assertEqual(connection.user.reference, "user-1")
        source = VirtualSource("vdb-1", connection, None, [Mount(environment(), "/m")])
        self.assertEqual(source.mounts[0].remote_environment.reference, "env-1")

    def test_status_and_migration_type(self):
        self.assertEqual([status.name for status in Status], ["ACTIVE", "INACTIVE"])
        self.assertEqual(MigrationType.PLATFORM, "PLATFORM")
        self.assertEqual(MigrationType.LUA, "LUA")

    def test_user_error(self):
        error = exceptions.UserError("Could not copy files.", "Check SSH.", "stderr text")
        self.assertEqual((error.message, error.action, error.output), ("Could not copy files.", "Check SSH.", "stderr text"))
        self.assertEqual(exceptions.UserError("x").action, "Contact the plugin author to correct the error.")


class UpgradeTest(unittest.TestCase):
    def test_migrations_run_in_id_order_on_their_object_type(self):
        plugin = Plugin()

        @plugin.upgrade.repository("2021.10.2")
        def add_port(old_repository):
            return dict(old_repository, port=5432)

        @plugin.upgrade.repository("2021.2")
        def rename(old_repository):
            new = dict(old_repository)
            new["installPath"] = new.pop("path")
            return new

        @plugin.upgrade.snapshot("2021.5")
        def snapshot(old_snapshot):
            return dict(old_snapshot, migrated=True)

        self.assertEqual(plugin.upgrade.migration_id_list, ["2021.2", "2021.5", "2021.10.2"])
        migrated = plugin.upgrade.migrate("repository", {"path": "/opt"}, plugin.upgrade.migration_id_list)
        self.assertEqual(migrated, {"installPath": "/opt", "port": 5432})
        # only the migrations asked for run (those the installed version lacks)
        self.assertEqual(plugin.upgrade.migrate("repository", {"installPath": "/x"}, ["2021.10.2"]), {"installPath": "/x", "port": 5432})
        self.assertEqual(plugin.upgrade.migrate("snapshot", {}, ["2021.5"]), {"migrated": True})

    def test_ids_are_normalised_and_unique_across_types(self):
        plugin = Plugin()
        plugin.upgrade.repository("1.2")(lambda old_repository: old_repository)
        with self.assertRaises(exceptions.MigrationIdAlreadyUsedError):
            plugin.upgrade.snapshot("01.02.0")(lambda old_snapshot: old_snapshot)
        self.assertEqual(plugin.upgrade.migration_id_list, ["1.2"])

    def test_bad_ids_are_refused(self):
        plugin = Plugin()

        def migration(old_repository):
            return old_repository

        with self.assertRaises(exceptions.MigrationIdIncorrectTypeError):
            plugin.upgrade.repository(2021)(migration)
        with self.assertRaises(exceptions.MigrationIdIncorrectFormatError):
            plugin.upgrade.repository("2021-1")(migration)
        with self.assertRaises(exceptions.MigrationIdIncorrectFormatError):
            plugin.upgrade.repository("0.0")(migration)
        with self.assertRaises(exceptions.UnknownMigrationTypeError):
            plugin.upgrade.repository("1", "OTHER")

    def test_lua_migrations_are_per_type_and_run_first(self):
        plugin = Plugin()
        plugin.upgrade.repository("1.1", MigrationType.LUA)(lambda old_repository: dict(old_repository, lua=True))
        plugin.upgrade.snapshot("1.1", MigrationType.LUA)(lambda old_snapshot: old_snapshot)
        plugin.upgrade.repository("1")(lambda old_repository: dict(old_repository, platform=old_repository.get("lua")))
        self.assertEqual(plugin.upgrade.lua_version_list, ["1.1"])
        self.assertEqual(plugin.upgrade.migration_id_list, ["1"])
        self.assertEqual(
            plugin.upgrade.migrate("repository", {}, ["1"], ["1.1"]), {"lua": True, "platform": True}
        )
        with self.assertRaises(exceptions.MigrationIdIncorrectFormatError):
            plugin.upgrade.source_config("1.1.1", MigrationType.LUA)(lambda old_source_config: old_source_config)


if __name__ == "__main__":
    unittest.main()
