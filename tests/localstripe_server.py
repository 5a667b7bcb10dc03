"""Run localstripe without its on-disk store.

localstripe pickles its whole store to the fixed path /tmp/localstripe.pickle after every
write: two instances (tests, a benchmark) would overwrite each other, and writes cost O(store
size). In memory only, every instance is private and fast. Usage:
``python -m tests.localstripe_server --port P``.
"""

from localstripe import resources
from localstripe.server import start

resources.Store.dump_to_disk = lambda self: None

if __name__ == "__main__":
    start()
