"""The platform libraries with the vSDK's signatures, served by the dvx engine (see _engine)."""
import logging

from dlpx.virtualization import _engine
from dlpx.virtualization.common._common_classes import (
    KeyPairCredentials,
    PasswordCredentials,
    RemoteConnection,
)
from dlpx.virtualization.libs.exceptions import (
    IncorrectArgumentTypeError,
    LibraryError,
    PluginScriptError,
)

__all__ = [
    "run_bash",
    "run_sync",
    "run_powershell",
    "run_expect",
    "retrieve_credentials",
    "upgrade_password",
    "PlatformHandler",
]


class _Result(object):
    """What a command produced: `exit_code`, `stdout`, `stderr`."""

    def __init__(self, exit_code, stdout, stderr):
        self.exit_code = exit_code
        self.stdout = stdout
        self.stderr = stderr

    def __repr__(self):
        return "RunBashResponse(exit_code={!r})".format(self.exit_code)


class RunBashResponse(_Result):
    pass


class RunExpectResponse(_Result):
    pass


class RunPowerShellResponse(_Result):
    pass


def _to_str(function, name, value, required=True):
    """Strings may be given as str or UTF-8 bytes."""
    if value is None and not required:
        return None
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise IncorrectArgumentTypeError(function, name, type(value), str, required)
    if not isinstance(value, str):
        raise IncorrectArgumentTypeError(function, name, type(value), str, required)
    return value


def _check_connection(function, remote_connection):
    if not isinstance(remote_connection, RemoteConnection):
        raise IncorrectArgumentTypeError(function, "remote_connection", type(remote_connection), RemoteConnection)
    return remote_connection._to_engine()


def _check_variables(function, variables):
    if variables is None:
        return None
    if not isinstance(variables, dict):
        raise IncorrectArgumentTypeError(function, "variables", type(variables), {str: str}, False)
    checked = {}
    for key, value in variables.items():
        if not isinstance(key, (str, bytes)) or not isinstance(value, (str, bytes)):
            raise IncorrectArgumentTypeError(
                function, "variables", {type(key): type(value)}, {str: str}, False
            )
        checked[_to_str(function, "variables", key)] = _to_str(function, "variables", value)
    return checked


def _check_bool(function, name, value):
    if not isinstance(value, bool):
        raise IncorrectArgumentTypeError(function, name, type(value), bool, False)
    return value


def _check_str_list(function, name, value):
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(item, (str, bytes)) for item in value):
        raise IncorrectArgumentTypeError(function, name, type(value), [str], False)
    return [_to_str(function, name, item) for item in value]


def _call(method, params):
    try:
        return _engine.call(method, params)
    except _engine.EngineError as error:
        library_error = LibraryError(error.error.get("code", "PLATFORM_ERROR"), error.error.get("message", ""), error.error)
        library_error.from_engine = True
        raise library_error


def _command_result(function, result_class, answer, check):
    result = result_class(answer.get("exitCode"), answer.get("stdout", ""), answer.get("stderr", ""))
    if check and result.exit_code != 0:
        raise PluginScriptError(
            "The script failed with exit code {}. stdout : {} and  stderr : {}".format(
                result.exit_code, result.stdout, result.stderr
            ),
            result.exit_code,
            result.stdout,
            result.stderr,
        )
    return result


def run_bash(remote_connection, command, variables=None, use_login_shell=False, check=False):
    """Runs `command` with bash on the connection's host as its user, from that user's home directory. `variables`
    become environment variables (the way to pass secrets); `check=True` raises PluginScriptError on a non-zero exit."""
    connection = _check_connection("run_bash", remote_connection)
    command = _to_str("run_bash", "command", command)
    variables = _check_variables("run_bash", variables)
    _check_bool("run_bash", "use_login_shell", use_login_shell)
    _check_bool("run_bash", "check", check)
    options = {"useLoginShell": use_login_shell}
    if variables is not None:
        options["variables"] = variables
    answer = _call("runBash", [connection, command, options])
    return _command_result("run_bash", RunBashResponse, answer, check)


def run_expect(remote_connection, command, variables=None, check=False):
    """Runs an expect script on the connection's host (where expect is installed)."""
    connection = _check_connection("run_expect", remote_connection)
    command = _to_str("run_expect", "command", command)
    variables = _check_variables("run_expect", variables)
    _check_bool("run_expect", "check", check)
    options = {} if variables is None else {"variables": variables}
    answer = _call("runExpect", [connection, command, options])
    return _command_result("run_expect", RunExpectResponse, answer, check)


def run_powershell(remote_connection, command, variables=None, check=False):
    """PowerShell on Windows hosts: dvx has none, so this raises LibraryError."""
    _check_connection("run_powershell", remote_connection)
    _to_str("run_powershell", "command", command)
    _check_variables("run_powershell", variables)
    _check_bool("run_powershell", "check", check)
    raise LibraryError(
        "WINDOWS_UNSUPPORTED", "run_powershell needs a Windows host; dvx runs plugins on Unix hosts only."
    )


def run_sync(remote_connection, source_directory, rsync_user=None, exclude_paths=None, sym_links_to_follow=None):
    """Copies `source_directory` of the connection's host into the dSource being synced (linked.pre_snapshot only);
    the copy mirrors the source. Returns None."""
    connection = _check_connection("run_sync", remote_connection)
    request = {
        "remoteConnection": connection,
        "sourceDirectory": _to_str("run_sync", "source_directory", source_directory),
    }
    rsync_user = _to_str("run_sync", "rsync_user", rsync_user, required=False)
    if rsync_user is not None:
        request["rsyncUser"] = rsync_user
    exclude_paths = _check_str_list("run_sync", "exclude_paths", exclude_paths)
    if exclude_paths is not None:
        request["excludePaths"] = exclude_paths
    sym_links = _check_str_list("run_sync", "sym_links_to_follow", sym_links_to_follow)
    if sym_links is not None:
        request["symLinksToFollow"] = sym_links
    _call("runSync", [request])
    return None


def retrieve_credentials(credentials_supplier):
    """Credentials from a credentials supplier: a parameter value typed as one in the schema (a
    NamedPasswordCredential or NamedKeyPairCredential), or, in dvx, `{"reference": USER_REFERENCE}` for an environment
    user the operation was given. Returns PasswordCredentials or KeyPairCredentials."""
    if not isinstance(credentials_supplier, dict):
        raise IncorrectArgumentTypeError(
            "retrieve_credentials", "credentials_supplier", type(credentials_supplier), dict
        )
    kind = credentials_supplier.get("type")
    if kind == "NamedPasswordCredential":
        return PasswordCredentials(credentials_supplier.get("username"), credentials_supplier.get("password", ""))
    if kind == "NamedKeyPairCredential":
        return KeyPairCredentials(
            credentials_supplier.get("username"),
            credentials_supplier.get("privateKey", ""),
            credentials_supplier.get("publicKey"),
        )
    if "reference" in credentials_supplier and isinstance(credentials_supplier["reference"], str):
        answer = _call("retrieveCredentials", [credentials_supplier["reference"]])
        if answer.get("privateKey"):
            return KeyPairCredentials(answer.get("username"), answer["privateKey"], answer.get("publicKey"))
        return PasswordCredentials(answer.get("username"), answer.get("password") or "")
    raise LibraryError(
        "CREDENTIALS_SUPPLIER_UNSUPPORTED",
        "The credentials supplier of type {!r} is not supported by dvx: use a NamedPasswordCredential, a"
        " NamedKeyPairCredential or {{'reference': USER_REFERENCE}}.".format(kind),
    )


def upgrade_password(password, username=None):
    """A credentials supplier for a plain password (for data migrations that move a password into one)."""
    password = _to_str("upgrade_password", "password", password)
    username = _to_str("upgrade_password", "username", username, required=False)
    supplier = {"type": "NamedPasswordCredential", "password": password}
    if username is not None:
        supplier["username"] = username
    return supplier


_LEVELS = [(logging.ERROR, "error"), (logging.WARNING, "warn"), (logging.INFO, "info")]


class PlatformHandler(logging.Handler):
    """A logging handler that sends records to the engine's log of the operation:
    `logging.getLogger().addHandler(libs.PlatformHandler())`. DEBUG is debug, INFO info, WARNING warn, ERROR and
    CRITICAL error."""

    def emit(self, record):
        try:
            message = self.format(record)
            level = next((name for number, name in _LEVELS if record.levelno >= number), "debug")
            _engine.log(level, message, {"logger": record.name})
        except Exception:
            self.handleError(record)
