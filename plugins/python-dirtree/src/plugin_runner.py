from dlpx.virtualization.platform import Mount, MountSpecification, Plugin
from dlpx.virtualization import libs
from dlpx.virtualization.platform.exceptions import UserError

from generated.definitions import (
    RepositoryDefinition,
    SourceConfigDefinition,
    SnapshotDefinition,
)

plugin = Plugin()


# Discovery: one repository per environment; directory trees (source configs) are added by hand.
@plugin.discovery.repository()
def repository_discovery(source_connection):
    repository = RepositoryDefinition("Repository for our First Plugin")
    return [repository]


@plugin.discovery.source_config()
def source_config_discovery(source_connection, repository):
    return []


# Data ingestion (the seeds' "Data Ingestion" page, as written there).
@plugin.linked.mount_specification()
def linked_mount_specification(staged_source, repository):
    mount_location = staged_source.parameters.mount_location
    mount = Mount(staged_source.staged_connection.environment, mount_location)
    return MountSpecification([mount])


@plugin.linked.pre_snapshot()
def copy_data_from_source(staged_source, repository, source_config, snapshot_parameters):
    stage_mount_path = staged_source.mount.mount_path
    data_location = "{}@{}:{}".format(staged_source.parameters.username,
        staged_source.parameters.source_address,
        source_config.path)

    rsync_command = "rsync -r {} {}".format(data_location, stage_mount_path)

    result = libs.run_bash(staged_source.staged_connection, rsync_command)

    if result.exit_code != 0:
        raise UserError(
            "Could not copy files.",
            "Ensure that passwordless SSH works for {}.".format(staged_source.parameters.source_address),
            result.stderr)


@plugin.linked.post_snapshot()
def linked_post_snapshot(staged_source,
                         repository,
                         source_config,
                         snapshot_parameters):
    return SnapshotDefinition()


# Provisioning: a directory tree needs nothing to run, the VDB is its mounted files.
@plugin.virtual.configure()
def configure_new_vdb(virtual_source, snapshot, repository):
    mount_location = virtual_source.parameters.mount_location
    name = "VDB mounted at {}".format(mount_location)
    return SourceConfigDefinition(path=mount_location, name=name)


@plugin.virtual.mount_specification()
def vdb_mount_spec(virtual_source, repository):
    mount_location = virtual_source.parameters.mount_location
    mount = Mount(virtual_source.connection.environment, mount_location)
    return MountSpecification([mount])


@plugin.virtual.reconfigure()
def reconfigure_vdb(virtual_source, repository, source_config, snapshot):
    return source_config


@plugin.virtual.post_snapshot()
def virtual_post_snapshot(virtual_source, repository, source_config):
    return SnapshotDefinition()
