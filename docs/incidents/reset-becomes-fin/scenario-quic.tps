# The QUIC variant, CONNECT over HTTP/3: an origin that resets every connection after
# 30000 response bytes, through a proxy that relays the reset as a stream FIN where
# RESET_STREAM H3_CONNECT_ERROR (0x10f) was due. The reference proxy's QUIC listener
# (ALPN h3) does it with the reset-as-fin fault. A body with a Content-Length shows up
# short (incomplete_read); a close-delimited one looks complete to a client that does
# not know its length. With --proxy quic://HOST:PORT --proxy-cacert CA.pem, the run
# checks that your proxy resets the stream. scenario-socks5-quic.tps: the same over
# SOCKS5 on QUIC streams.
scenario reset-becomes-fin-quic
description CONNECT-over-HTTP/3 proxy relaying an origin's reset as a stream FIN

origin
  arg --fault
  arg rst:after=30000
proxy reference quic
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
