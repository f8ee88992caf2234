from tillbridge.cli import main

raise SystemExit(main())
