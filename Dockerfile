FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY config ./config
COPY catalog ./catalog
COPY lifecycle ./lifecycle
COPY scorecards ./scorecards
RUN pip install --no-cache-dir ".[otel]"
COPY . .
RUN useradd --create-home appkeeper && chown -R appkeeper /app
USER appkeeper
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000"]
