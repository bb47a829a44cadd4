# An origin that crashes mid-response (here: resets every connection after 30000
# response bytes) through a proxy that relays the reset as an orderly end. The
# reference proxy does it with the reset-as-fin fault: the client sees a FIN where
# the origin sent an RST. A body with a Content-Length shows up short
# (incomplete_read); a body that ends at connection close looks complete. With
# --proxy, the run checks that your proxy passes the origin's reset on.
scenario reset-becomes-fin
description proxy relaying an origin's reset as an orderly FIN

origin
  arg --fault
  arg rst:after=30000
proxy reference socks5h
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
