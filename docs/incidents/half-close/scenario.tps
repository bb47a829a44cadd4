# A proxy that turns the client's half-close into a full close loses the response.
scenario half-close
description a client FIN after the request must not end the tunnel

origin
  sites sites
proxy reference socks5h
  fault full-close

probe
  url http://origin.test:{http}/late
  requests 3
  timeout 3s
  arg --half-close

expect
  ok == 0
  requests == 3
