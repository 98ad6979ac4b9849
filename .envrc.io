export DATABASE_URL=postgres://postgres@127.0.0.1:5432/pmo5p_io REDIS_URL=redis://127.0.0.1:6379/4 PMO5P_CHROMIUM=/usr/bin/chromium PMO5P_REQUIRE_ALL=1
