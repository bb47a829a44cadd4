# The IOCP incident's bug class, for real on the IOCP path: the reference proxy's Windows
# build (build/win64/tunnelprobe.exe, a completion port, under Wine) with short-send-drop
# — a WSASend completion that leaves bytes of the relay's buffer unsent is taken for the
# end of them: the rest of the response is dropped and the client gets a FIN. About a
# third of the tunnels are hit; only the large responses get past 32 KiB. README.md says
# what this reproduces and what it does not prove.
scenario win-iocp-windows
description the Windows build (IOCP, under Wine) dropping the rest after a send completion, then FIN

origin
proxy reference http windows
  fault short-send-drop:after=32768 p=0.34 seed=6

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

expect reference               # the bug reproduced on the IOCP path
  class incomplete_read >= 1
  phase incomplete_read body >= 1
  class ok >= 30
  verdict truncated at proxy
