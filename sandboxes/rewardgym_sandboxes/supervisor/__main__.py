"""``python3 -m rewardgym_sandboxes.supervisor``: in a container from a root-only copy of the package (see
sandboxes/images/Dockerfile), or as a local process from a private copy (``LocalSupervisors``)."""

import sys

from .main import main

sys.exit(main())
