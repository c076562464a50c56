"""Staff-only analytics API under /api/v1/analytics/, read from the daily rollups (the WebShop POC
seed's endpoints plus the E-commerce Platform seed's ad-hoc query). Money is a decimal string in
the response's `currency`."""
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shop.api_base import error_responses

from .. import selectors
from .serializers import Days, Query

# Each answer is a JSON object built from the rollups: the period, the currency and the figures
# (money as decimal strings); the shapes are in each view's docstring and in README.md.
_READ = {"parameters": [Days], "responses": {200: OpenApiTypes.OBJECT, **error_responses(400, 401, 403, 429)}}


def _money(value):
    return None if value is None else str(value)


def _jsonable(row: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else str(v) if hasattr(v, "quantize") else v)
            for k, v in row.items()}


class CanViewDashboard(permissions.BasePermission):
    """Staff with accounts.view_dashboard (the "Analysts" role, or a superuser), as the dashboard."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff and user.has_perm("accounts.view_dashboard"))


class _StaffView(APIView):
    permission_classes = [CanViewDashboard]
    default_days = 30

    def params(self, request: Request):
        """(period, currency, limit) from ?days=&currency=&limit=; 400 on bad values."""
        params = Days(data=request.query_params.dict())  # a plain dict: an empty ?currency= is an error, not "absent"
        params.is_valid(raise_exception=True)
        period = selectors.period_of_days(params.validated_data.get("days", self.default_days))
        currency = selectors.choose_currency(params.validated_data.get("currency", ""), selectors.data_extent())
        return period, currency, params.validated_data.get("limit", 10)

    @staticmethod
    def frame(period, currency) -> dict:
        return {"start_date": period.start.isoformat(), "end_date": period.end.isoformat(), "currency": currency}


class OverviewView(_StaffView):
    """GET overview?days=30: the KPI figures with the previous period and the change in %."""

    @extend_schema(tags=["analytics"], **_READ)
    def get(self, request: Request) -> Response:
        period, currency, _ = self.params(request)
        kpis = selectors.kpis(period, currency)
        return Response({**self.frame(period, currency),
                         "total_revenue": _money(kpis["net_revenue"]["value"]),
                         "gross_revenue": _money(kpis["gross_revenue"]["value"]),
                         "total_orders": kpis["orders"]["value"],
                         "average_order_value": _money(kpis["average_order_value"]["value"]),
                         "total_customers": kpis["customers"]["value"],
                         "new_customers": kpis["new_customers"]["value"],
                         "conversion_rate": _money(kpis["conversion_rate"]["value"]),
                         "kpis": {name: _jsonable(figure) for name, figure in kpis.items()}})


class RevenueView(_StaffView):
    """GET revenue?days=30: net and gross revenue, refunds per day."""

    @extend_schema(tags=["analytics"], **_READ)
    def get(self, request: Request) -> Response:
        period, currency, _ = self.params(request)
        rows = selectors.trend(period, currency)
        return Response({**self.frame(period, currency),
                         "total": _money(sum(r["net_revenue"] for r in rows)),
                         "data": [{"date": r["date"].isoformat(), "revenue": _money(r["net_revenue"]),
                                   "gross_revenue": _money(r["gross_revenue"]),
                                   "refunded": _money(r["refunded_value"])} for r in rows]})


class OrdersView(_StaffView):
    """GET orders?days=30: orders, units, cancellations and refunds per day."""

    @extend_schema(tags=["analytics"], **_READ)
    def get(self, request: Request) -> Response:
        period, currency, _ = self.params(request)
        rows = selectors.trend(period, currency)
        return Response({**self.frame(period, currency), "total": sum(r["orders"] for r in rows),
                         "data": [{"date": r["date"].isoformat(), "orders": r["orders"], "units": r["units"],
                                   "cancellations": r["cancellations"], "refunds": r["refunds"]} for r in rows]})


class UsersView(_StaffView):
    """GET users?days=7: new and returning customers per day, and distinct customers overall."""

    default_days = 7

    @extend_schema(tags=["analytics"], **_READ)
    def get(self, request: Request) -> Response:
        period, currency, _ = self.params(request)
        rows = selectors.trend(period, currency)
        return Response({**self.frame(period, currency),
                         "customers": selectors.kpis(period, currency)["customers"]["value"],
                         "new_customers": sum(r["new_customers"] for r in rows),
                         "data": [{"date": r["date"].isoformat(), "new_customers": r["new_customers"],
                                   "returning_customers": r["returning_customers"]} for r in rows]})


class ProductsView(_StaffView):
    """GET products?days=30&limit=10: the best sellers by net revenue."""

    @extend_schema(tags=["analytics"], **_READ)
    def get(self, request: Request) -> Response:
        period, currency, limit = self.params(request)
        return Response({**self.frame(period, currency),
                         "data": [_jsonable(r) for r in selectors.top_products(period, currency, limit=limit)]})


class QueryView(_StaffView):
    """POST query {"start_date","end_date","metrics":[...],"group_by":"day|week|month|product|country"}."""

    @extend_schema(tags=["analytics"], request=Query,
                   responses={200: OpenApiTypes.OBJECT, **error_responses(400, 401, 403, 429)})
    def post(self, request: Request) -> Response:
        query = Query(data=request.data)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        period = selectors.Period(data["start_date"], data["end_date"])
        currency = selectors.choose_currency(data.get("currency", ""), selectors.data_extent())
        rows = selectors.query(period=period, currency=currency, metrics=data["metrics"], group_by=data["group_by"])
        return Response({**self.frame(period, currency), "group_by": data["group_by"], "metrics": data["metrics"],
                         "data": [_jsonable(r) for r in rows]})
