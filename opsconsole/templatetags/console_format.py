"""``{{ moment|when }}`` and ``{{ cents|money }}`` (or ``{{ cents|money:"eur" }}``): the console's
one format for times and money (``opsconsole.formatting``)."""

from django import template

from opsconsole.formatting import human_time, money

register = template.Library()
register.filter("when", human_time)
register.filter("money", money)
