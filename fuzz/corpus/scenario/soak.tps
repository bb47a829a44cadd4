# a soak against a user's own proxy build
scenario gateway-soak
proxy external http://127.0.0.1:8080
capture off
probe
  url http://127.0.0.1:{http}/bytes/1024
  duration 30m
  rate 200
  segment 5s
  threads 2
expect
  reuse_ratio >= 0.9
  rss_growth_mb <= 50
  fd_growth <= 10
  p99_regression_pct <= 20
