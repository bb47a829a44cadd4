scenario verdict-phrases
proxy reference http
  fault rst:after=3000
origin
probe
  url https://origin.test:{tls}/bytes/20000
  requests 4
expect
  verdict truncated at proxy
  verdict Truncated at proxy→client
  verdict reset  by proxy
  verdict at proxy
  verdict proxy->client
  verdict lost on the wire
  verdict reset_upstream_by_proxy
  verdict no_fin
  verdict unlocated
  rss_growth_mb <= 64
  fd_growth <= 8
  no_new_class
  p99_regression_pct <= 20
