from habot.cli import main

raise SystemExit(main())
