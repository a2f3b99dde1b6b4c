# The chat server image: slim, non-root, with a health check. Settings come from the environment
# (docs/operations.md): REDIS_URL, SECRET_KEY (required with more than one replica, so every
# replica signs and verifies tokens with the same key), ALLOWED_ORIGINS, LOG_LEVEL, ...
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LOG_LEVEL=INFO \
    SECRET_KEY_FILE=/var/lib/peer-support/secret_key

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /var/lib/peer-support \
       --create-home --shell /usr/sbin/nologin app

WORKDIR /src
COPY pyproject.toml README.md ./
COPY server ./server
COPY rooms ./rooms
COPY moderation ./moderation
COPY static ./static
RUN pip install . && python -c "import server.app, rooms, moderation"

# Without SECRET_KEY (one replica only) the generated key is kept in SECRET_KEY_FILE: mount a
# volume on /var/lib/peer-support to keep member tokens valid across container re-creation.
WORKDIR /var/lib/peer-support
USER app:app

EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2); sys.exit(0 if r.status == 200 else 1)"]

STOPSIGNAL SIGTERM
CMD ["peer-support", "serve", "--host", "0.0.0.0", "--port", "8000"]
