"""Every plugin operation: its dvx name, the vSDK's decorator and the argument names its function declares."""

# dvx operation name -> (decorator label, argument names; "source" is staged_source or direct_source by plugin type)
OPERATIONS = {
    "discovery.repository": ("discovery.repository()", ["source_connection"]),
    "discovery.sourceConfig": ("discovery.source_config()", ["source_connection", "repository"]),
    "linked.preSnapshot": (
        "linked.pre_snapshot()",
        ["source", "repository", "source_config", "optional_snapshot_parameters"],
    ),
    "linked.postSnapshot": (
        "linked.post_snapshot()",
        ["source", "repository", "source_config", "optional_snapshot_parameters"],
    ),
    "linked.startStaging": ("linked.start_staging()", ["source", "repository", "source_config"]),
    "linked.stopStaging": ("linked.stop_staging()", ["source", "repository", "source_config"]),
    "linked.status": ("linked.status()", ["source", "repository", "source_config"]),
    "linked.worker": ("linked.worker()", ["source", "repository", "source_config"]),
    "linked.mountSpecification": ("linked.mount_specification()", ["source", "repository"]),
    "linked.sourceSize": ("linked.source_size()", ["source", "repository", "source_config"]),
    "virtual.configure": ("virtual.configure()", ["virtual_source", "snapshot", "repository"]),
    "virtual.unconfigure": ("virtual.unconfigure()", ["virtual_source", "repository", "source_config"]),
    "virtual.reconfigure": (
        "virtual.reconfigure()",
        ["virtual_source", "repository", "source_config", "snapshot"],
    ),
    "virtual.cleanup": ("virtual.cleanup()", ["virtual_source", "repository", "source_config"]),
    "virtual.start": ("virtual.start()", ["virtual_source", "repository", "source_config"]),
    "virtual.stop": ("virtual.stop()", ["virtual_source", "repository", "source_config"]),
    "virtual.preSnapshot": ("virtual.pre_snapshot()", ["virtual_source", "repository", "source_config"]),
    "virtual.postSnapshot": ("virtual.post_snapshot()", ["virtual_source", "repository", "source_config"]),
    "virtual.mountSpecification": ("virtual.mount_specification()", ["virtual_source", "repository"]),
    "virtual.status": ("virtual.status()", ["virtual_source", "repository", "source_config"]),
    "virtual.initialize": ("virtual.initialize()", ["virtual_source", "repository"]),
    "virtual.sourceSize": ("virtual.source_size()", ["virtual_source", "repository", "source_config"]),
}

# Older plugins name the snapshot parameters argument `snapshot_parameters`; both are accepted.
SNAPSHOT_PARAMETERS_NAMES = ("optional_snapshot_parameters", "snapshot_parameters")

# Upgrade object types: decorator name -> (the function's argument name, dvx object kind)
UPGRADE_TYPES = {
    "repository": "old_repository",
    "source_config": "old_source_config",
    "linked_source": "old_linked_source",
    "virtual_source": "old_virtual_source",
    "snapshot": "old_snapshot",
}
