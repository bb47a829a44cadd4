# The same load through the healthy reference proxy: half-close done right.
scenario half-close-healthy
description a client FIN after the request, relayed as a half-close

origin
  sites sites
proxy reference socks5h

probe
  url http://origin.test:{http}/late
  requests 3
  timeout 3s
  arg --half-close

expect
  class ok == 3
