# tsundoku: web (gunicorn) + worker in one container, via `manage.py serve`.
# NOT BUILT OR RUN: there was no Docker daemon (or image registry) where this
# was written. Treat it as a starting point and check it before relying on it.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    TSUNDOKU_STORAGE__DATA_DIR=/data

RUN useradd --system --create-home --home-dir /data tsundoku
WORKDIR /app

# The lock first, so code changes do not reinstall the dependencies.
COPY pyproject.toml requirements.lock ./
RUN pip install --no-cache-dir uv \
    && uv pip install --system --no-cache --require-hashes -r requirements.lock
COPY . .
RUN uv pip install --system --no-cache --no-deps -e .

USER tsundoku
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/api/v1/health', timeout=4)"
CMD ["python", "manage.py", "serve", "--bind", "0.0.0.0:8000"]
