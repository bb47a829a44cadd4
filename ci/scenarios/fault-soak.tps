# The nightly accounting soak (ci/nightly-soak.sh): an open-loop load through the
# reference proxy with faults on a fraction of the tunnels, checked so that every
# request is accounted for in every ledger — each probe record's id in the origin's
# ledger when its request got there, and in the proxy's ledger for each tunnel it
# opened (run --help: `accounted`) — while the proxy's RSS and open fds stay flat
# (growth from the first sample under load to the last, under 5%).
scenario fault-soak
description every request accounted for in every ledger under faults; proxy RSS and fds flat

origin
proxy reference http
  fault truncate:after=20000 p=0.05 seed=11
  fault rst:after=10000 p=0.03 seed=12

probe
  url http://soak.test:{http}/bytes/65536       # forward: a proxy ledger line per request
  url https://soak.test:{tls}/bytes/65536       # CONNECT: a line per tunnel
  duration 30m
  segment 10s
  rate 100
  concurrency 16
  timeout 5s
  arg --no-keepalive                            # a tunnel per request: faults hit requests

expect
  accounted == 1
  error_rate <= 0.25

expect reference               # the faults acted, and the proxy stayed flat under them
  class incomplete_read >= 1
  class reset >= 1
  verdict truncated at proxy
  rss_growth_pct <= 5
  fd_growth_pct <= 5
