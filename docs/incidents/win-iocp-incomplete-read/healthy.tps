# The IOCP incident's load through a healthy proxy: what a fixed build must show.
scenario win-iocp-healthy
description the same load through a healthy proxy: every byte arrives (the nightly gate)

origin
proxy reference http

probe
  url https://www.baidu.com:{tls}/bytes/654397
  url https://www.qq.com:{tls}/chunked/123456?chunk=8192
  url https://www.taobao.com:{tls}/gzip/230000
  url https://www.jd.com:{tls}/bytes/24000
  url https://www.163.com:{tls}/bytes/9000
  url https://www.sina.com.cn:{tls}/chunked/4000?chunk=1000
  requests 10
  concurrency 6
  timeout 10s
  arg --no-keepalive

expect
  error_rate <= 0
  class incomplete_read == 0
  no_new_class
