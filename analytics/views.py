"""Staff pages."""
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from . import selectors


@staff_member_required
@permission_required("accounts.view_dashboard", raise_exception=True)  # the "Analysts" role (issue 7)
def staff_dashboard(request: HttpRequest) -> HttpResponse:
    """/staff/: recent orders and low-stock variants, then live updates over /ws/staff/."""
    return render(request, "analytics/staff.html", {
        "orders": selectors.recent_orders(), "low_stock": selectors.low_stock_variants()})
