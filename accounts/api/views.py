"""Account API: register, JWT token pair (with login lockout), refresh with rotation, logout
(blacklists the refresh token) and the caller's profile."""
from django.db import IntegrityError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import services
from accounts.backends import LOCKED_OUT_CODE, lockout_message
from shop.api_base import error_responses
from shop.throttling import AuthThrottle

from .serializers import (
    TAKEN_EMAIL, LogoutSerializer, RefreshSerializer, RegisterSerializer, TokenPairSerializer, UserSerializer,
)


class RegisterView(APIView):
    """POST /api/v1/auth/register: create a customer account (accounts.services.register_customer)."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    throttle_classes = [AuthThrottle]

    @extend_schema(request=RegisterSerializer, responses={201: UserSerializer, **error_responses(400, 429)},
                   auth=[], operation_id="auth_register", tags=["auth"])
    def post(self, request: Request) -> Response:
        data = RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user = services.register_customer(
                email=data.validated_data["email"], password=data.validated_data["password"],
                first_name=data.validated_data["first_name"], last_name=data.validated_data["last_name"],
                request=request._request)
        except IntegrityError:  # a concurrent sign-up with the same email won
            return Response({"detail": TAKEN_EMAIL, "code": "invalid", "fields": {"email": [TAKEN_EMAIL]}}, status=400)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenView(jwt_views.TokenObtainPairView):
    """POST /api/v1/auth/token: an access and refresh token pair for an email and password.

    Failed attempts count towards the login lockout of this (email, client address) pair
    (django-axes, shared with the HTML and admin logins): once locked, even the right password gets
    429 there until the cool-off ends. An account under distributed guessing (accounts.login_guard)
    answers the right password with 403 `login_link_required` and emails its owner a login code,
    to be sent again with the password as `login_code`.
    """

    authentication_classes: list = []
    throttle_classes = [AuthThrottle]
    serializer_class = TokenPairSerializer

    @extend_schema(responses={200: TokenPairSerializer, **error_responses(400, 401, 403, 429)}, auth=[],
                   operation_id="auth_token", tags=["auth"])
    def post(self, request: Request, *args, **kwargs) -> Response:
        try:
            return super().post(request, *args, **kwargs)
        except AuthenticationFailed:
            if getattr(request, "axes_locked_out", False):
                return Response({"detail": lockout_message(), "code": LOCKED_OUT_CODE, "fields": {}}, status=429)
            raise


class TokenRefreshView(jwt_views.TokenRefreshView):
    """POST /api/v1/auth/token/refresh: a new access token and a new refresh token; the refresh
    token sent is blacklisted, so it works once."""

    authentication_classes: list = []
    throttle_classes = [AuthThrottle]
    serializer_class = RefreshSerializer

    @extend_schema(responses={200: RefreshSerializer, **error_responses(400, 401, 429)}, auth=[],
                   operation_id="auth_token_refresh", tags=["auth"])
    def post(self, request: Request, *args, **kwargs) -> Response:
        return super().post(request, *args, **kwargs)


class LogoutView(APIView):
    """POST /api/v1/auth/logout: blacklist a refresh token so it can no longer be used."""

    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    throttle_classes = [AuthThrottle]

    @extend_schema(request=LogoutSerializer, responses={204: OpenApiResponse(description="Logged out"),
                                                        **error_responses(400, 401, 429)},
                   auth=[], operation_id="auth_logout", tags=["auth"])
    def post(self, request: Request) -> Response:
        data = LogoutSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            RefreshToken(data.validated_data["refresh"]).blacklist()
        except TokenError as error:
            return Response({"detail": str(error), "code": "token_not_valid", "fields": {"refresh": [str(error)]}},
                            status=401)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(generics.RetrieveAPIView):
    """GET /api/v1/auth/me: the logged-in user."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = UserSerializer

    @extend_schema(responses={200: UserSerializer, **error_responses(401, 429)}, operation_id="auth_me",
                   tags=["auth"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_object(self):
        return self.request.user
