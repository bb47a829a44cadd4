scenario x
probe
  url http://a/
  requests 0
