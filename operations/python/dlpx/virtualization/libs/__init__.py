"""The platform libraries (`from dlpx.virtualization import libs`; `libs.run_bash(...)`)."""
from dlpx.virtualization.libs.libs import *  # noqa: F401,F403
from dlpx.virtualization.libs.libs import __all__  # noqa: F401
from dlpx.virtualization.libs import exceptions  # noqa: F401
