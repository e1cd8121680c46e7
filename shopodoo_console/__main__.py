import sys

from shopodoo_console.cli import main

sys.exit(main())
