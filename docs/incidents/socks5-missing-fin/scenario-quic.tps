# The incident itself: a SOCKS5-over-QUIC proxy that never sends the stream's FIN. The
# response arrives in full, but the client waiting for the end of the stream times
# out. The reference proxy serves SOCKS5 on QUIC streams (its QUIC listener, ALPN
# socks5) and withholds the FIN with the no-fin fault; with --proxy
# socks5h+quic://HOST:PORT --proxy-cacert CA.pem, the run checks that your proxy
# finishes each stream after the origin's FIN.
scenario socks5-missing-fin-quic
description SOCKS5-over-QUIC tunnel whose proxy never sends the stream FIN

origin
proxy reference socks5h+quic
  fault no-fin

probe
  url http://origin.test:{http}/close/50000
  url http://origin.test:{http}/bytes/2000
  requests 3
  timeout 2s

expect reference
  phase timeout fin >= 3
  class ok == 3
  verdict no fin from probe,proxy_ledger

expect user
  class ok == 6
  class timeout == 0
