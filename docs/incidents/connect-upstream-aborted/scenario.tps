# A proxy chained to an upstream proxy dropped tunnels around the CONNECT exchange.
# The first proxy here closes some tunnels before its reply (what curl reports as
# "Proxy CONNECT aborted"); the upstream closes others right after accepting them.
# Both are faults of the reference proxies; with --proxy, your proxy (chained or not)
# replaces both, and the run checks that every tunnel opens and carries its response.
scenario connect-upstream-aborted
description chained proxy closing tunnels around the CONNECT exchange

origin
proxy reference http
  fault close-before-reply p=0.3 seed=2
  upstream reference
  upstream_fault close-after-accept p=0.3 seed=5

probe
  url https://api.example.test:{tls}/bytes/20000
  requests 30
  concurrency 3
  timeout 5s
  arg --no-keepalive

expect reference
  class proxy_connect_aborted >= 1
  phase proxy_connect_aborted proxy >= 1
  class tunnel_closed_early >= 1

expect user
  ok == 30
