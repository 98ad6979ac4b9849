# pmo5p: one image for the web process (gunicorn), the Celery worker and Celery beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PMO5P_VAR_DIR=/app/var

# gcc, libc6-dev and libpq-dev build psycopg2 from source; WeasyPrint draws the report PDFs with
# Pango and a font.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        gcc libc6-dev libpq-dev \
        libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# STATIC_ROOT is $PMO5P_VAR_DIR/static (/app/var/static). Collecting needs settings
# that load with DEBUG off, hence a throwaway key that is used for nothing else.
RUN DJANGO_DEBUG=0 DJANGO_SECRET_KEY=collectstatic-only-not-a-secret \
    python manage.py collectstatic --noinput

# Run as a non-root user; /app/var holds the collected static files and the beat schedule.
RUN useradd --system --uid 10001 --user-group --home-dir /app --no-create-home pmo5p \
    && chown -R pmo5p:pmo5p /app/var
USER pmo5p

EXPOSE 8000

# --no-control-socket: otherwise gunicorn writes ~/.gunicorn/gunicorn.ctl.
CMD ["gunicorn", "pmo5p.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--no-control-socket", "--access-logfile", "-"]
