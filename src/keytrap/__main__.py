from keytrap.cli import main

raise SystemExit(main())
