# An API gateway in front of a slow origin: rate limiting (429 + Retry-After) and an
# open circuit breaker (503), checked against latency and reuse thresholds.
scenario gateway-hardening
description gateway status breakdown, latency percentiles and connection reuse

origin
proxy reference http

probe
  url http://api.test:{http}/status/429
  url http://api.test:{http}/status/503
  url http://api.test:{http}/delay/20
  url http://api.test:{http}/bytes/4096
  requests 50
  concurrency 4
  rate 400
  timeout 5s
  arg --expect-status
  arg 200,429,503

expect
  status 429 >= 50
  status 503 >= 50
  error_rate <= 0.01
  p99_ms <= 2000
  requests >= 200
  reuse_ratio >= 0.9
  rss_growth_mb <= 64
  fd_growth <= 16
  no_new_class
  p99_regression_pct <= 100
