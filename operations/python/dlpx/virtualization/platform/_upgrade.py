"""Data migrations: `@plugin.upgrade.repository('2021.1.1')` and the other object types, with the vSDK's id rules."""
import inspect
import re

from dlpx.virtualization.platform._operations import UPGRADE_TYPES
from dlpx.virtualization.platform._plugin_classes import MigrationType
from dlpx.virtualization.platform.exceptions import (
    DecoratorNotFunctionError,
    MigrationIdAlreadyUsedError,
    MigrationIdIncorrectFormatError,
    MigrationIdIncorrectTypeError,
    UnknownMigrationTypeError,
)

PLATFORM_ID_PATTERN = r"^\d+(\.\d+)*$"
LUA_ID_PATTERN = r"^\d+\.\d+$"


def standardize_migration_id(migration_id, function_name, migration_type=MigrationType.PLATFORM):
    """The canonical form of a migration id: parts as integers without leading zeros, trailing zero parts trimmed
    ("01.02.0" -> "1.2"). Refuses non-strings, other formats and (platform ids) all zeros."""
    if not isinstance(migration_id, str):
        raise MigrationIdIncorrectTypeError(migration_id, function_name)
    pattern = LUA_ID_PATTERN if migration_type == MigrationType.LUA else PLATFORM_ID_PATTERN
    if not re.match(pattern, migration_id):
        raise MigrationIdIncorrectFormatError.from_fields(migration_id, function_name, pattern)
    parts = [int(part) for part in migration_id.split(".")]
    if migration_type == MigrationType.LUA:
        return "{}.{}".format(parts[0], parts[1])
    while parts and parts[-1] == 0:
        parts.pop()
    if not parts:
        raise MigrationIdIncorrectFormatError(
            "The migration id '{}' used in the function '{}' cannot be used because a 0 migration id is not"
            " allowed.".format(migration_id, function_name)
        )
    return ".".join(str(part) for part in parts)


def _sort_key(standard_id):
    return [int(part) for part in standard_id.split(".")]


class UpgradeOperations(object):
    """`plugin.upgrade`: one decorator per object type, each taking a migration id (and optionally a migration type)."""

    def __init__(self):
        # object type -> {standard id: function}
        self._platform = {object_type: {} for object_type in UPGRADE_TYPES}
        self._lua = {object_type: {} for object_type in UPGRADE_TYPES}
        self._platform_ids = set()

    def _decorator(self, object_type, migration_id, migration_type):
        if migration_type not in (MigrationType.PLATFORM, MigrationType.LUA):
            raise UnknownMigrationTypeError(migration_type)

        def decorator(function):
            if not (inspect.isfunction(function) or inspect.ismethod(function)):
                raise DecoratorNotFunctionError(getattr(function, "__name__", repr(function)), "upgrade." + object_type)
            name = function.__name__
            standard = standardize_migration_id(migration_id, name, migration_type)
            if migration_type == MigrationType.LUA:
                if standard in self._lua[object_type]:
                    raise MigrationIdAlreadyUsedError(migration_id, standard, name)
                self._lua[object_type][standard] = function
            else:
                if standard in self._platform_ids:
                    raise MigrationIdAlreadyUsedError(migration_id, standard, name)
                self._platform_ids.add(standard)
                self._platform[object_type][standard] = function
            return function

        return decorator

    def repository(self, migration_id, migration_type=MigrationType.PLATFORM):
        return self._decorator("repository", migration_id, migration_type)

    def source_config(self, migration_id, migration_type=MigrationType.PLATFORM):
        return self._decorator("source_config", migration_id, migration_type)

    def linked_source(self, migration_id, migration_type=MigrationType.PLATFORM):
        return self._decorator("linked_source", migration_id, migration_type)

    def virtual_source(self, migration_id, migration_type=MigrationType.PLATFORM):
        return self._decorator("virtual_source", migration_id, migration_type)

    def snapshot(self, migration_id, migration_type=MigrationType.PLATFORM):
        return self._decorator("snapshot", migration_id, migration_type)

    @property
    def migration_id_list(self):
        """Every platform migration id (canonical form), in the order they run."""
        return sorted(self._platform_ids, key=_sort_key)

    @property
    def lua_version_list(self):
        """Every Lua migration version, in the order they run."""
        versions = set()
        for migrations in self._lua.values():
            versions.update(migrations)
        return sorted(versions, key=_sort_key)

    def migrate(self, object_type, value, migration_ids, lua_versions=()):
        """Runs the migrations of `object_type` among `migration_ids` (then none of the others), Lua ones first, each
        on the previous one's output (dicts keyed by the schema's names). Returns the last output."""
        if object_type not in UPGRADE_TYPES:
            from dlpx.virtualization.platform.exceptions import IncorrectUpgradeObjectTypeError

            raise IncorrectUpgradeObjectTypeError(
                "The upgrade object type '{}' is not one of {}.".format(object_type, ", ".join(UPGRADE_TYPES))
            )
        argument = UPGRADE_TYPES[object_type]
        wanted_lua = {standardize_migration_id(v, "migrate", MigrationType.LUA) for v in lua_versions}
        for version in sorted(self._lua[object_type], key=_sort_key):
            if version in wanted_lua:
                value = self._lua[object_type][version](**{argument: value})
        wanted = {standardize_migration_id(m, "migrate") for m in migration_ids}
        for standard in sorted(self._platform[object_type], key=_sort_key):
            if standard in wanted:
                value = self._platform[object_type][standard](**{argument: value})
        return value
