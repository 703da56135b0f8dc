from habot.launcher import main

raise SystemExit(main())
