"""``{{ value|fact }}`` and ``{{ value|facts }}``: values in a template as the admin's run page
shows them (``opsconsole.adminkit``): "—" for nothing, text as it is, a JSON object as a table."""

from django import template

from opsconsole.adminkit import fact_value, facts_table

register = template.Library()
register.filter("fact", fact_value)
register.filter("facts", facts_table)
