"""`python -m edge_voice.sim`: run the simulator without the main CLI."""

from edge_voice.sim.cli import main

raise SystemExit(main())
