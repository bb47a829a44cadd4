# The QUIC variant, SOCKS5 on QUIC streams: the same origin reset (after 30000
# response bytes) relayed as a stream FIN by the reference proxy's QUIC listener (ALPN
# socks5) with reset-as-fin. With --proxy socks5h+quic://HOST:PORT --proxy-cacert
# CA.pem, the run checks that your proxy resets the stream. scenario-quic.tps: the
# same over CONNECT over HTTP/3.
scenario reset-becomes-fin-socks5-quic
description SOCKS5-over-QUIC proxy relaying an origin's reset as a stream FIN

origin
  arg --fault
  arg rst:after=30000
proxy reference socks5h+quic
  fault reset-as-fin

probe
  url http://origin.test:{http}/bytes/100000
  url http://origin.test:{http}/close/100000
  requests 3
  timeout 3s

expect reference
  class incomplete_read >= 3
  class reset == 0
  verdict reset became fin from probe,origin_ledger

expect user
  class reset >= 3
  class incomplete_read == 0
  verdict reset by origin
