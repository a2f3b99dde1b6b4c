"""`python -m server` is the `peer-support` command."""

import sys

from server.cli import main

sys.exit(main())
