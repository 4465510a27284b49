"""The host objects plugins get: RemoteConnection, RemoteEnvironment, RemoteHost, RemoteUser and credentials."""
from dlpx.virtualization.common.exceptions import IncorrectTypeError


def _check(owner, name, value, expected, required=True):
    if value is None and not required:
        return value
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise IncorrectTypeError(owner, name, type(value), expected, required)
    return value


class RemoteHost(object):
    """A host: `name` (its address), `reference`, `binary_path` (where the engine's tools are on it) and
    `scratch_path` (a directory plugins may write to)."""

    def __init__(self, name, reference, binary_path, scratch_path):
        self._name = _check(RemoteHost, "name", name, str)
        self._reference = _check(RemoteHost, "reference", reference, str)
        self._binary_path = _check(RemoteHost, "binary_path", binary_path, str)
        self._scratch_path = _check(RemoteHost, "scratch_path", scratch_path, str)

    name = property(lambda self: self._name)
    reference = property(lambda self: self._reference)
    binary_path = property(lambda self: self._binary_path)
    scratch_path = property(lambda self: self._scratch_path)

    def __repr__(self):
        return "RemoteHost(name={!r}, reference={!r})".format(self._name, self._reference)


class RemoteEnvironment(object):
    """An environment (a host added to the engine): `name`, `reference`, `host`."""

    def __init__(self, name, reference, host):
        self._name = _check(RemoteEnvironment, "name", name, str)
        self._reference = _check(RemoteEnvironment, "reference", reference, str)
        self._host = _check(RemoteEnvironment, "host", host, RemoteHost)
        self._engine_json = None

    name = property(lambda self: self._name)
    reference = property(lambda self: self._reference)
    host = property(lambda self: self._host)

    def __eq__(self, other):
        return isinstance(other, RemoteEnvironment) and other._reference == self._reference

    def __hash__(self):
        return hash(self._reference)

    def __repr__(self):
        return "RemoteEnvironment(name={!r}, reference={!r})".format(self._name, self._reference)

    @staticmethod
    def _from_engine(value):
        host = value.get("host") or {}
        environment = RemoteEnvironment(
            value["name"],
            value["reference"],
            RemoteHost(
                host.get("hostname", ""),
                host.get("reference", value["reference"]),
                host.get("binaryPath", ""),
                host.get("scratchPath", ""),
            ),
        )
        environment._engine_json = value
        return environment

    def _to_engine(self):
        if self._engine_json is not None:
            return self._engine_json
        return {
            "name": self._name,
            "reference": self._reference,
            "host": {
                "hostname": self._host.name,
                "scratchPath": self._host.scratch_path,
                "binaryPath": self._host.binary_path,
            },
        }


class RemoteUser(object):
    """The user commands run as on an environment: `name`, `reference`."""

    def __init__(self, name, reference):
        self._name = _check(RemoteUser, "name", name, str)
        self._reference = _check(RemoteUser, "reference", reference, str)

    name = property(lambda self: self._name)
    reference = property(lambda self: self._reference)

    def __repr__(self):
        return "RemoteUser(name={!r}, reference={!r})".format(self._name, self._reference)


class RemoteConnection(object):
    """Where and as whom a platform call runs: `environment` and `user`."""

    def __init__(self, environment, user):
        self._environment = _check(RemoteConnection, "environment", environment, RemoteEnvironment)
        self._user = _check(RemoteConnection, "user", user, RemoteUser)

    environment = property(lambda self: self._environment)
    user = property(lambda self: self._user)

    def __repr__(self):
        return "RemoteConnection(environment={!r}, user={!r})".format(self._environment, self._user)

    @staticmethod
    def _from_engine(value):
        """The connection of the engine's JSON ({environment: {name, reference, host}, user: {name, reference}})."""
        user = value["user"]
        return RemoteConnection(RemoteEnvironment._from_engine(value["environment"]), RemoteUser(user["name"], user["reference"]))

    def _to_engine(self):
        return {
            "environment": self._environment._to_engine(),
            "user": {"name": self._user.name, "reference": self._user.reference},
        }


class Credentials(object):
    """Credentials of a user: `username`."""

    def __init__(self, username):
        self._username = _check(type(self), "username", username, str, required=False)

    username = property(lambda self: self._username)


class PasswordCredentials(Credentials):
    """A user name and a password."""

    def __init__(self, username, password):
        super().__init__(username)
        self._password = _check(PasswordCredentials, "password", password, str)

    password = property(lambda self: self._password)

    def __repr__(self):
        return "PasswordCredentials(username={!r}, password=<hidden>)".format(self._username)


class KeyPairCredentials(Credentials):
    """A user name, a private key and, when known, its public key."""

    def __init__(self, username, private_key, public_key=None):
        super().__init__(username)
        self._private_key = _check(KeyPairCredentials, "private_key", private_key, str)
        self._public_key = _check(KeyPairCredentials, "public_key", public_key, str, required=False)

    private_key = property(lambda self: self._private_key)
    public_key = property(lambda self: self._public_key)

    def __repr__(self):
        return "KeyPairCredentials(username={!r}, private_key=<hidden>)".format(self._username)
