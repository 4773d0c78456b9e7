from atwifi.cli import main

raise SystemExit(main())
