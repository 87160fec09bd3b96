import sys

from healthnews.cli import main

sys.exit(main())
