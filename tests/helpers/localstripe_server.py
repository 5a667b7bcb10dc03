"""Run localstripe with two changes that keep it fast and private.

- No on-disk store: localstripe pickles its whole store to the fixed path
  /tmp/localstripe.pickle after every write, so two instances (tests, a benchmark) would
  overwrite each other, and every write would cost O(store size).
- A customer no longer embeds its ``subscriptions`` list, as in Stripe API versions since
  2020-08-27 (it is expandable only there). localstripe builds that list by scanning its whole
  store for every customer it returns, which makes listing 10,000 customers quadratic.

Usage: ``python -m tests.helpers.localstripe_server --port P``.
"""

from localstripe import resources
from localstripe.server import start

resources.Store.dump_to_disk = lambda self: None
del resources.Customer.subscriptions

if __name__ == "__main__":
    start()
