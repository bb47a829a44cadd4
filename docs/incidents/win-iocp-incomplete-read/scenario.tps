# The IOCP incident's symptom, reproduced with the reference proxy: a short send whose
# remainder is dropped, then FIN, on about a third of the tunnels (only the large
# responses reach 32 KiB). This is the Linux reference proxy with a fault, not the
# Windows build: see README.md for the hypotheses and the evidence that separates them.
scenario win-iocp-incomplete-read
description HTTPS forward proxy truncating large responses (short send, then FIN)

origin
proxy reference http
  fault truncate:after=32768 p=0.34 seed=6
  simulated Linux reference proxy with a short-send fault, not a Windows build

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

expect reference               # the fault reproduced: what the report must show
  class incomplete_read >= 1
  phase incomplete_read body >= 1
  class ok >= 30
  verdict truncated at proxy

expect user                    # with --proxy: your build must not show the incident
  error_rate <= 0
  class incomplete_read == 0
