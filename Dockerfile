# Minimal image for now; the production-stack issue makes it multi-stage with a healthcheck.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt constraints.txt ./
RUN pip install --no-cache-dir -r requirements.txt -c constraints.txt
COPY . .
RUN useradd --create-home shop && chown -R shop /app
USER shop
EXPOSE 8000
CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "shop.asgi:application"]
