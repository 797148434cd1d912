# syntax=docker/dockerfile:1.7
# Phản Ánh API image: `docker build -t phananh .` then
#   docker run -e PHANANH_DATABASE_URL=postgresql://user:pass@db:5432/phananh \
#              -e PHANANH_JWT_SECRET=... -p 8000:8000 phananh
# The database needs PostGIS; run `docker run ... phananh phananh migrate` once per release.

# ---- web: the staff console (web/ → web/dist), served by the API at /console/
FROM node:20-bookworm-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web/ ./
RUN npm run build

# ---- build: resolve the locked dependencies into /app/.venv with uv
FROM python:3.11-slim-bookworm AS build
COPY --from=ghcr.io/astral-sh/uv:0.13 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never UV_PYTHON=/usr/local/bin/python3.11
WORKDIR /app
# dependencies first (cached while only the code changes)
COPY pyproject.toml uv.lock README.md ./
RUN --mount=type=cache,target=/root/.cache/uv uv sync --frozen --no-dev --no-install-project
# the code; the project is installed editable so api/migrate.py finds migrations/ beside it
COPY alembic.ini ./
COPY migrations ./migrations
COPY api ./api
COPY geo ./geo
COPY media ./media
COPY moderation ./moderation
COPY push ./push
COPY --from=web /web/dist ./web/dist
RUN --mount=type=cache,target=/root/.cache/uv uv sync --frozen --no-dev

# ---- runtime: the same Python, the venv and the runtime files only, as a non-root user
FROM python:3.11-slim-bookworm AS runtime
RUN groupadd --system --gid 10001 phananh \
 && useradd --system --uid 10001 --gid phananh --home-dir /app --no-create-home phananh \
 && mkdir -p /var/lib/phananh \
 && chown phananh:phananh /var/lib/phananh
WORKDIR /app
COPY --from=build /app /app
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PHANANH_DATA_DIR=/var/lib/phananh \
    PHANANH_HOST=0.0.0.0 \
    PHANANH_PORT=8000
USER phananh
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=2)"
CMD ["phananh", "serve", "--host", "0.0.0.0"]
