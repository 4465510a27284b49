"""Classes shared by the platform and the libraries (`from dlpx.virtualization.common import RemoteConnection`)."""
from dlpx.virtualization.common._common_classes import (
    Credentials,
    KeyPairCredentials,
    PasswordCredentials,
    RemoteConnection,
    RemoteEnvironment,
    RemoteHost,
    RemoteUser,
)
from dlpx.virtualization.common import exceptions

__all__ = [
    "Credentials",
    "KeyPairCredentials",
    "PasswordCredentials",
    "RemoteConnection",
    "RemoteEnvironment",
    "RemoteHost",
    "RemoteUser",
    "exceptions",
]
