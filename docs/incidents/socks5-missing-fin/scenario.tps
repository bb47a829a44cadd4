# A SOCKS5 proxy that never propagates the end of stream: the response arrives in
# full, but the client waiting for EOF times out. The reference proxy does it here
# with the no-fin fault; with --proxy, the run checks that your proxy passes the
# origin's FIN on.
scenario socks5-missing-fin
description SOCKS5 tunnel whose proxy never signals the end of stream

origin
proxy reference socks5h
  fault no-fin

probe
  url http://origin.test:{http}/close/50000
  url http://origin.test:{http}/bytes/2000
  requests 3
  timeout 2s

expect reference
  phase timeout fin >= 3
  class ok == 3

expect user
  class ok == 6
