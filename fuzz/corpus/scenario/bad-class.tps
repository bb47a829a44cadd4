scenario x
probe
url http://a/
expect
  class nosuch >= 1
