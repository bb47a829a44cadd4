scenario groups
origin
proxy reference http
  fault truncate:after=32768 p=0.34 seed=6
  simulated Linux reference proxy with a short-send fault, not a Windows build
proxy_resolves_names
probe
  url https://www.baidu.com:{tls}/bytes/654397
  duration 168h
  segment 1h
  timeout 1h
  rate 1000000
expect
  requests >= 1
expect reference
  class incomplete_read >= 1
  verdict truncated at proxy from probe,origin_ledger
expect user
  error_rate <= 0
  missed <= 0
  verified >= 10
  unverified == 0
  phase_p99_ms tls <= 50
  phase_mean_ms first_byte <= 9
  accounted == 1
  rss_growth_pct <= 5
  fd_growth_pct <= 5
