"""``python3 -m rewardgym_sandboxes.supervisor`` or, copied alone into a container, ``python3 /path/to/supervisor``."""

import os
import sys

if __package__:
    from .main import main
else:  # run as a directory: make its parent importable and load it as the package "supervisor"
    sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    from supervisor.main import main

sys.exit(main())
