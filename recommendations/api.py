"""POST /api/v1/recommendations: the seeds' request shape (`user_id`, `limit`, `algorithm`,
`include_categories`, `exclude_products`) plus `product_id` for item-to-item, answered from the
stored tables (recommendations.answers, cached). A customer may ask only for themselves;
staff for anyone. Unknown user or product: 404; a bad algorithm or neither seed: 400."""
from django.contrib.auth import get_user_model
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from shop.api_base import StrictJSONSerializer, error_responses

from . import answers, selectors

MAX_IDS = 100


class RecommendationRequestSerializer(StrictJSONSerializer):
    """What to recommend: for a customer (`user_id`), beside a product (`product_id`), or both."""

    user_id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    product_id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    limit = serializers.IntegerField(required=False, default=10, min_value=1, max_value=50)
    algorithm = serializers.ChoiceField(choices=selectors.ALGORITHMS, required=False, default="hybrid")
    include_categories = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
                                               required=False, default=list, max_length=MAX_IDS)
    exclude_products = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
                                             required=False, default=list, max_length=MAX_IDS)

    def validate(self, attrs: dict) -> dict:
        if "user_id" not in attrs and "product_id" not in attrs and attrs["algorithm"] != "popular":
            raise serializers.ValidationError({"user_id": ["Give user_id, product_id or both."]})
        return attrs


class RecommendedProductSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    url = serializers.CharField()


class RecommendationItemSerializer(serializers.Serializer):
    product = RecommendedProductSerializer()
    score = serializers.FloatField()
    reason = serializers.CharField()
    confidence = serializers.FloatField()


class RecommendationResponseSerializer(serializers.Serializer):
    recommendations = RecommendationItemSerializer(many=True)
    algorithm_used = serializers.CharField()
    confidence_score = serializers.FloatField()
    generated_at = serializers.DateTimeField()


class RecommendationsView(APIView):
    """Recommendations for a customer or beside a product (logged-in customers and staff)."""

    permission_classes = [permissions.IsAuthenticated]  # JSON bodies: the project's depth-limited parser
    generated_at = serializers.DateTimeField()

    @extend_schema(request=RecommendationRequestSerializer,
                   responses={200: RecommendationResponseSerializer, **error_responses(400, 401, 403, 404, 429)})
    def post(self, request):
        query = RecommendationRequestSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        user_id = data.get("user_id")
        if user_id is not None and user_id != request.user.pk:
            if not request.user.is_staff:
                raise PermissionDenied("You may ask for your own recommendations only.")
            if not get_user_model().objects.filter(pk=user_id).exists():
                raise NotFound(f"No user with id {user_id}.")
        try:
            found = answers.answer(user_id=user_id, product_id=data.get("product_id"), algorithm=data["algorithm"],
                                   limit=data["limit"], exclude=data["exclude_products"],
                                   include_categories=data["include_categories"])
        except answers.UnknownProduct:
            raise NotFound(f"No product with id {data['product_id']}.") from None
        return Response({**found, "generated_at": self.generated_at.to_representation(found["generated_at"])})


urlpatterns = [path("recommendations", RecommendationsView.as_view(), name="api-recommendations")]
