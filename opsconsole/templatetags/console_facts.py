"""``{{ value|fact }}``, ``{{ value|facts }}`` and ``{{ value|fact_list }}``: values in a
template as the admin's run page shows them (``opsconsole.adminkit``): "—" for nothing, text as
it is, a JSON object as a table or a definition list."""

from django import template

from opsconsole.adminkit import fact_value, facts_list, facts_table, person_facing_fields

register = template.Library()
register.filter("fact", fact_value)
register.filter("facts", facts_table)
register.filter("fact_list", facts_list)
# ``{% for f in change|shown_fields %}``: a change's fields without internal ids.
register.filter("shown_fields", person_facing_fields)
