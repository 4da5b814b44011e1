"""`python -m edge_voice`: the same as the `edge-voice` command."""

import sys

from edge_voice.cli.main import main

sys.exit(main())
