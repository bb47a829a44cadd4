# A proxy that turns the client's half-close into a full close loses the response.
# The reference proxy does it here with the full-close fault; with --proxy, the run
# checks that your proxy keeps the tunnel open after the client's FIN.
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
  requests == 3

expect reference
  ok == 0

expect user
  ok == 3
