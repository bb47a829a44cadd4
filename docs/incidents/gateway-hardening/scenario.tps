# A load and regression soak for a forward proxy: an open-loop load at 400 requests/s
# of plain HTTP through the proxy, checked against the error rate, latency,
# connection reuse and the proxy's RSS and fds, and with --baseline against the
# previous run. It checks no gateway feature: rate limiting (429 + Retry-After), the
# circuit breaker (503 + X-Circuit-Breaker) and metrics are checked by gateway.sh
# beside this file (tunnelprobe check --profile gateway; README.md).
scenario gateway-hardening
description load and regression soak: errors, latency, connection reuse, proxy RSS and fds

origin
proxy reference http

probe
  url http://api.test:{http}/delay/20
  url http://api.test:{http}/bytes/4096
  requests 100
  concurrency 8
  rate 400
  timeout 5s

expect
  error_rate <= 0.01
  p99_ms <= 2000
  reuse_ratio >= 0.9
  rss_growth_mb <= 64          # skipped against your proxy (run cannot sample it)
  fd_growth <= 16
  no_new_class                 # with --baseline PREV/run.json
  p99_regression_pct <= 100
