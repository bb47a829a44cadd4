scenario demo-windows-iocp
description the IOCP short-send bug
proxy reference http
  fault truncate:after=32768 p=0.34 seed=6
origin
  sites sites/iocp.sites
probe
  url https://www.baidu.com:{tls}/bytes/654397
  url http://127.0.0.1:{http}/chunked/100?chunk=7
  requests 10
  concurrency 6
  timeout 10s
  arg --no-keepalive
expect
  class incomplete_read >= 1
  phase incomplete_read body >= 1
  error_rate <= 0.5
  p99_ms <= 2000
  status 200 >= 1
  verdict truncated at proxy
  no_new_class
