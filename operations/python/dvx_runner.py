"""The runner of Python plugins: one operation per process (`python3 -I dvx_runner.py CODE_PATH`).

Started by the engine (operations/invoker/runner-launcher.ts) with Node's IPC channel on the file descriptor named by
NODE_CHANNEL_FD: one JSON message per line, both ways, the protocol of operations/invoker/ipc-messages.ts. It sends
`ready`, unpacks the plugin's code (the artifact's code: JSON with the entry point, the schemas and srcDir's files)
into a directory beside CODE_PATH once, makes it the working directory, installs `generated.definitions`, imports
the entry point and sends `loaded`; then it waits for one `invoke`, says `started`, runs it (platform calls are
`call` messages answered by `reply`; PlatformHandler records are `log` messages), reports `result` or `failure` and
waits to be killed. Standard library only.
"""
import base64
import json
import os
import shutil
import socket
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from dlpx.virtualization import _engine, _generated  # noqa: E402


class Channel(object):
    """Node's IPC channel, JSON lines over a Unix socket."""

    def __init__(self, fd):
        os.set_inheritable(fd, False)
        self.socket = socket.socket(fileno=fd)
        self.buffer = b""
        self.next_id = 1
        self.waiting = []  # messages read while waiting for a reply
        self.operation = None

    def send(self, message):
        data = (json.dumps(message, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")
        try:
            self.socket.sendall(data)
        except OSError:
            os._exit(0)  # the engine went away: nobody will read the result

    def receive(self):
        """The next message; exits when the engine closes the channel."""
        if self.waiting:
            return self.waiting.pop(0)
        while b"\n" not in self.buffer:
            try:
                chunk = self.socket.recv(1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                os._exit(0)
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        message = json.loads(line.decode("utf-8"))
        if isinstance(message, dict) and str(message.get("cmd", "")).startswith("NODE_"):
            return self.receive()  # Node's internal messages
        return message

    # The engine channel of dlpx.virtualization._engine:

    def call(self, method, params):
        if self.operation is None:
            from dlpx.virtualization.common.exceptions import PluginRuntimeError

            raise PluginRuntimeError(
                "{} was called while the plugin was imported: platform calls work only inside an operation.".format(method)
            )
        call_id = self.next_id
        self.next_id += 1
        self.send({"type": "call", "id": call_id, "method": method, "params": params})
        kept = []
        while True:
            message = self.receive()
            if message.get("type") == "reply" and message.get("id") == call_id:
                break
            kept.append(message)
        self.waiting = kept + self.waiting
        if message.get("error") is not None:
            raise _engine.EngineError(message["error"])
        return message.get("value")

    def log(self, level, message, fields):
        try:
            self.send({"type": "log", "level": level, "message": message, "fields": fields})
        except (TypeError, ValueError):
            self.send({"type": "log", "level": level, "message": message, "fields": {"unserializableFields": True}})


def unpack(code_path):
    """The plugin's code: the bundle at code_path, unpacked once into CODE_PATH.d (atomically: a whole directory or
    none). Returns (bundle without files, directory)."""
    with open(code_path, "r", encoding="utf-8") as handle:
        bundle = json.load(handle)
    directory = code_path + ".d"
    if not os.path.isdir(directory):
        partial = "{}.{}.tmp".format(directory, os.getpid())
        shutil.rmtree(partial, ignore_errors=True)
        os.makedirs(partial, mode=0o700)
        for relative, content in bundle["files"].items():
            target = os.path.normpath(os.path.join(partial, relative))
            if not target.startswith(partial + os.sep):
                raise ValueError("The plugin's file {!r} is outside its source directory.".format(relative))
            os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
            with open(target, "wb") as handle:
                handle.write(base64.b64decode(content))
        try:
            os.rename(partial, directory)
        except OSError:
            shutil.rmtree(partial, ignore_errors=True)  # another runner unpacked it first
            if not os.path.isdir(directory):
                raise
    bundle.pop("files", None)
    return bundle, directory


def where(error, directory):
    """`FILE line N` of the plugin's code where `error` happened (the innermost frame in the plugin's files)."""
    if isinstance(error, SyntaxError) and error.filename:
        return "{} line {}".format(os.path.relpath(error.filename, directory), error.lineno)
    found = None
    for frame in traceback.extract_tb(error.__traceback__):
        if frame.filename.startswith(directory + os.sep):
            found = frame
    if found is None:
        return None
    return "{} line {}".format(os.path.relpath(found.filename, directory), found.lineno)


def load(code_path, channel):
    """(plugin, bundle, error) after importing the entry point; error is a failure to report."""
    directory = None
    try:
        bundle, directory = unpack(code_path)
        os.chdir(directory)
        sys.path.insert(0, directory)
        _generated.install(bundle["schemas"])
        module_name, attribute = bundle["entryPoint"].split(":", 1)
        module = __import__(module_name, fromlist=["_"])
        plugin = getattr(module, attribute, None)
        from dlpx.virtualization.platform import Plugin

        if not isinstance(plugin, Plugin):
            return None, bundle, {
                "kind": "notPlugin",
                "message": "The plugin's entry point {} is not a Plugin() of dlpx.virtualization.platform.".format(
                    bundle["entryPoint"]
                ),
            }
        return plugin, bundle, None
    except BaseException as error:  # noqa: B902 (SystemExit at import is a failure too)
        place = where(error, directory) if directory else None
        message = "Importing the plugin failed{}: {}: {}".format(
            " at " + place if place else "", type(error).__name__, error
        )
        return None, None, {"kind": "fault", "name": type(error).__name__, "message": message, "stack": traceback.format_exc()}


# The vSDK's limit of operation outputs (Best_Practices/Message_Limits.md: "< 4 MiB").
MAX_OUTPUT_BYTES = 4 * 1024 * 1024


def too_big(operation, size):
    return {
        "kind": "fault",
        "name": "PluginRuntimeError",
        "message": "The output of {} is {} bytes of JSON, over the 4 MiB the Virtualization SDK allows an operation's"
        " output.".format(operation, size),
    }


def describe(error):
    """The failure of an operation that raised `error`."""
    from dlpx.virtualization.libs.exceptions import LibraryError
    from dlpx.virtualization.platform.exceptions import OperationNotDefinedError, UserError

    if isinstance(error, UserError):
        return {
            "kind": "user",
            "message": str(error.message),
            "action": str(error.action),
            "output": str(error.output) if error.output else traceback.format_exc(),
        }
    if isinstance(error, LibraryError) and getattr(error, "from_engine", False):
        return {"kind": "platform", "error": error.error}
    if isinstance(error, OperationNotDefinedError):
        return {"kind": "missing", "message": str(error)}
    return {"kind": "fault", "name": type(error).__name__, "message": str(error), "stack": traceback.format_exc()}


def main():
    channel = Channel(int(os.environ.pop("NODE_CHANNEL_FD")))
    os.environ.pop("NODE_CHANNEL_SERIALIZATION_MODE", None)
    _engine.install(channel)
    channel.send({"type": "ready"})
    code_path = sys.argv[1] if len(sys.argv) > 1 else None
    if code_path is None:
        plugin, bundle, failure = None, None, {"kind": "fault", "message": "The runner was started without the path of the plugin code."}
    else:
        plugin, bundle, failure = load(code_path, channel)
    channel.send({"type": "loaded"})
    while True:
        message = channel.receive()
        if message.get("type") == "invoke":
            break
    channel.operation = message["operation"]
    channel.send({"type": "started"})
    if failure is None:
        from dlpx.virtualization.platform import _invoke

        try:
            value = _invoke.invoke(plugin, message["operation"], message["args"], bundle["pluginType"])
        except BaseException as error:  # noqa: B902
            failure = describe(error)
    # What the plugin printed reaches the operation's log before its outcome (the engine kills the process after it).
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    if failure is not None:
        channel.send({"type": "failure", "failure": failure})
    else:
        try:
            size = len(json.dumps(value, allow_nan=False, ensure_ascii=False).encode("utf-8"))
        except (TypeError, ValueError) as error:
            channel.send({"type": "failure", "failure": {"kind": "unserializable", "message": str(error)}})
        else:
            if size > MAX_OUTPUT_BYTES:
                channel.send({"type": "failure", "failure": too_big(message["operation"], size)})
            else:
                channel.send({"type": "result", "value": value})
    while True:  # killed by the engine, or gone with it
        channel.receive()


if __name__ == "__main__":
    main()
