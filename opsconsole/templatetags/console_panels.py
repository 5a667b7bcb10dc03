"""{% page_panels "<page>" key=value ... %}: the panels higher layers registered for a page."""

from django import template
from django.utils.html import format_html_join

from opsconsole import panels

register = template.Library()


@register.simple_tag(takes_context=True)
def page_panels(context, page, **page_context):
    rendered = panels.render(page, context["request"], **page_context)
    return format_html_join("", "{}", ((html,) for html in rendered))
