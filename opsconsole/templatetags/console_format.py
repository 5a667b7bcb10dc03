"""``{{ moment|when }}`` and ``{{ cents|money }}`` (or ``{{ cents|money:"eur" }}``): the console's
one format for times and money (``opsconsole.formatting``); ``{{ value|shown }}`` for a value
that may or may not be a time (a field's old and new value in a history)."""

from django import template

from opsconsole.formatting import house_value, human_time, money

register = template.Library()
register.filter("when", human_time)
register.filter("money", money)
register.filter("shown", house_value)
