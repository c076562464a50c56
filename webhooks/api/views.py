"""Staff API /api/v1/webhooks/: create, list, read, change and delete endpoints; and per endpoint
GET deliveries/ (newest first, with attempts; ?status=failed), POST redeliver/ (one delivery, or
every failed one since a time), POST test/ (a webhook.test event) and POST rotate-secret/ (a new
secret, shown once; the old one signs too for WEBHOOK_SECRET_OVERLAP seconds). Every write goes
through webhooks.services."""
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from shop.api_base import StaffRulesAPI, error_responses
from webhooks import services
from webhooks.models import Delivery, Endpoint

from .serializers import (DeliveryListQuery, DeliverySerializer, EndpointSerializer, EndpointWithSecretSerializer,
                          EndpointWriteSerializer, RedeliverResponse, RedeliverSerializer)


def _refused(problem: Exception, field: str) -> Response:
    return Response({"detail": str(problem), "code": "invalid", "fields": {field: [str(problem)]}},
                    status=status.HTTP_400_BAD_REQUEST)


@extend_schema_view(
    list=extend_schema(responses={200: EndpointSerializer(many=True), **error_responses(401, 403, 404, 429)}),
    retrieve=extend_schema(responses={200: EndpointSerializer, **error_responses(401, 403, 404, 429)}),
    create=extend_schema(request=EndpointWriteSerializer,
                         responses={201: EndpointWithSecretSerializer, **error_responses(400, 401, 403, 429)}),
    update=extend_schema(request=EndpointWriteSerializer,
                         responses={200: EndpointSerializer, **error_responses(400, 401, 403, 404, 429)}),
    partial_update=extend_schema(request=EndpointWriteSerializer,
                                 responses={200: EndpointSerializer, **error_responses(400, 401, 403, 404, 429)}),
    destroy=extend_schema(responses={204: None, **error_responses(401, 403, 404, 429)}),
)
class EndpointViewSet(StaffRulesAPI, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                      viewsets.GenericViewSet):
    """Webhook endpoints (staff): where the shop POSTs its events, signed per Standard Webhooks."""

    serializer_class = EndpointSerializer
    queryset = Endpoint.objects.order_by("pk")

    def create(self, request, *args, **kwargs):
        """Create an endpoint; the answer is the only one that shows its `secret`."""
        data = EndpointWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            endpoint = services.create_endpoint(**data.validated_data)
        except services.WebhookError as problem:
            return _refused(problem, "events")
        return Response(EndpointWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        """Change the endpoint (PUT: `url` required; PATCH: any of the fields)."""
        endpoint = self.get_object()
        data = EndpointWriteSerializer(data=request.data, partial=kwargs.get("partial", False))
        data.is_valid(raise_exception=True)
        try:
            services.update_endpoint(endpoint=endpoint, **data.validated_data)
        except services.WebhookError as problem:
            return _refused(problem, "events")
        return Response(EndpointSerializer(endpoint).data)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def perform_destroy(self, endpoint: Endpoint) -> None:
        services.delete_endpoint(endpoint=endpoint)

    @extend_schema(parameters=[OpenApiParameter("status", str, enum=list(Delivery.Status.values)),
                               OpenApiParameter("page", int)],
                   responses={200: DeliverySerializer(many=True), **error_responses(400, 401, 403, 404, 429)})
    @action(detail=True, methods=["get"])
    def deliveries(self, request, pk=None):
        """GET /api/v1/webhooks/{id}/deliveries/: the endpoint's deliveries, newest first, 50 a page."""
        endpoint = self.get_object()
        query = DeliveryListQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = (endpoint.deliveries.select_related("event").prefetch_related("attempt_log").order_by("-pk"))
        if "status" in query.validated_data:
            rows = rows.filter(status=query.validated_data["status"])
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(request=RedeliverSerializer,
                   responses={202: RedeliverResponse, **error_responses(400, 401, 403, 404, 429)})
    @action(detail=True, methods=["post"])
    def redeliver(self, request, pk=None):
        """POST /api/v1/webhooks/{id}/redeliver/: send `delivery_id` again, or every delivery that
        failed since `failed_since`; each keeps its webhook-id. A pending delivery is not touched."""
        endpoint = self.get_object()
        data = RedeliverSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        chosen = data.validated_data
        if "delivery_id" in chosen and not endpoint.deliveries.filter(pk=chosen["delivery_id"]).exists():
            return Response({"detail": "No such delivery of this endpoint.", "code": "not_found", "fields": {}},
                            status=status.HTTP_404_NOT_FOUND)
        ids = services.redeliver(endpoint=endpoint, failed_since=chosen.get("failed_since"),
                                 delivery_ids=[chosen["delivery_id"]] if "delivery_id" in chosen else None)
        return Response({"redelivered": ids}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: DeliverySerializer, **error_responses(401, 403, 404, 429)})
    @action(detail=True, methods=["post"])
    def test(self, request, pk=None):
        """POST /api/v1/webhooks/{id}/test/: send a webhook.test event to this endpoint now."""
        delivery = services.send_test(endpoint=self.get_object())
        delivery = Delivery.objects.select_related("event").prefetch_related("attempt_log").get(pk=delivery.pk)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: EndpointWithSecretSerializer, **error_responses(401, 403, 404, 429)})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """POST /api/v1/webhooks/{id}/rotate-secret/: a new secret, shown in this answer only."""
        endpoint = self.get_object()
        services.rotate_secret(endpoint=endpoint)
        endpoint.refresh_from_db()
        return Response(EndpointWithSecretSerializer(endpoint).data)
