"""Chat template filters."""
from django import template

register = template.Library()


@register.filter
def duration(seconds) -> str:
    """Seconds as short text: "45 s", "12 min", "3 h 5 min", "2 d 4 h"; "–" for None."""
    if seconds is None:
        return "\u2013"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours < 1:
        return f"{minutes} min"
    if days < 1:
        return f"{hours} h {minutes % 60} min" if minutes % 60 else f"{hours} h"
    return f"{days} d {hours % 24} h" if hours % 24 else f"{days} d"
