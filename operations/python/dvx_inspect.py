"""What a Python plugin implements, as `dvx plugin build` reads it (the vSDK's build imports the plugin the same way).

`python3 -I dvx_inspect.py SRC_DIR MODULE:ATTRIBUTE PLUGIN_TYPE` with the schema's definitions as JSON on stdin:
imports the entry point from SRC_DIR (the working directory, as at run time) under dvx's dlpx.virtualization and
writes one JSON object to stdout: {"operations": [...], "migrationIds": {...}, "issues": [...]} where issues are
operations whose functions declare other arguments than the vSDK passes (file, line), or {"importError": {message,
file, line}}. What the plugin prints while imported goes to stderr.
"""
import json
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from dlpx.virtualization import _generated  # noqa: E402

OBJECT_TYPES = {
    "repository": "repository",
    "source_config": "sourceConfig",
    "linked_source": "linkedSource",
    "virtual_source": "virtualSource",
    "snapshot": "snapshot",
}


def relative(path, directory):
    path = os.path.abspath(path)
    return os.path.relpath(path, directory) if path.startswith(directory + os.sep) else path


def import_error(error, directory):
    file, line = None, None
    if isinstance(error, SyntaxError) and error.filename:
        file, line = relative(error.filename, directory), error.lineno
    else:
        for frame in traceback.extract_tb(error.__traceback__):
            if os.path.abspath(frame.filename).startswith(directory + os.sep):
                file, line = relative(frame.filename, directory), frame.lineno
    return {"message": "{}: {}".format(type(error).__name__, error), "file": file, "line": line}


def main():
    directory, entry_point, plugin_type = os.path.abspath(sys.argv[1]), sys.argv[2], sys.argv[3]
    schemas = json.load(sys.stdin)
    out = sys.stdout
    sys.stdout = sys.stderr
    os.chdir(directory)
    sys.path.insert(0, directory)
    _generated.install(schemas)
    module_name, attribute = entry_point.split(":", 1)
    try:
        module = __import__(module_name, fromlist=["_"])
    except BaseException as error:  # noqa: B902
        json.dump({"importError": import_error(error, directory)}, out)
        return
    from dlpx.virtualization.platform import Plugin
    from dlpx.virtualization.platform import _invoke

    plugin = getattr(module, attribute, None)
    if not isinstance(plugin, Plugin):
        json.dump(
            {
                "importError": {
                    "message": "{} is {}, not a Plugin() of dlpx.virtualization.platform".format(
                        entry_point, "missing" if plugin is None else "a " + type(plugin).__name__
                    ),
                    "file": None,
                    "line": None,
                }
            },
            out,
        )
        return
    issues = []
    operations = plugin._operations()
    for operation in operations:
        function = plugin._implementation(operation)
        expected = _invoke.expected_names(operation, plugin_type)
        values = {name: None for name in expected}
        try:
            _invoke.keyword_arguments(function, operation, values, plugin_type)
        except Exception as error:  # IncorrectPluginCodeError
            code = getattr(function, "__code__", None)
            issues.append(
                {
                    "operation": operation,
                    "message": str(error),
                    "file": relative(code.co_filename, directory) if code else None,
                    "line": code.co_firstlineno if code else None,
                }
            )
    upgrade = plugin.upgrade
    migration_ids = {
        camel: sorted(upgrade._platform[snake], key=lambda m: [int(p) for p in m.split(".")])
        for snake, camel in OBJECT_TYPES.items()
    }
    json.dump(
        {
            "operations": operations,
            "migrationIds": migration_ids,
            "migrationIdList": upgrade.migration_id_list,
            "luaVersions": upgrade.lua_version_list,
            "issues": issues,
            "unrun": plugin._unrun_operations(),
        },
        out,
    )


if __name__ == "__main__":
    main()
