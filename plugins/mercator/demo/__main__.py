import sys

from mercator.demo.cli import main

sys.exit(main())
