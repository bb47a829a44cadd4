# A Windows (IOCP) build of an HTTPS forward proxy cut large responses short: a
# partial WSASend whose remainder was dropped, then FIN. 1 in 6 tunnels, large
# responses only. See README.md.
scenario win-iocp-incomplete-read
description HTTPS forward proxy truncating large responses (IOCP short send)

origin
proxy reference http
  fault truncate:after=32768 p=0.34 seed=6

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
  class incomplete_read >= 1
  phase incomplete_read body >= 1
  class ok >= 30
  verdict truncated at proxy
